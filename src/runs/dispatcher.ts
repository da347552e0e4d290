/** The dispatcher port: something that keeps claiming due rows and running the publish step on them. */

/** Embedded (in-process loop) and scale-out (BullMQ) adapters implement this. */
export interface Dispatcher {
  /** Starts claiming work; rows left `sending` by a crashed process are replayed first. */
  start(): void;
  /** Stops claiming; resolves once in-flight calls have finished and been recorded. */
  stop(): Promise<void>;
  /** New work was committed (the run, when one was): look now instead of at the next poll. */
  kick(runId?: string): void;
}
