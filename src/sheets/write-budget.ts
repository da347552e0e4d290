/**
 * A Sheets request budget keeps every request of one kind (writes, or reads) of the service account, retries
 * included, under Google's per-minute quota for that kind, shared by all runs. The service holds one for writes and
 * one for reads. The port is small so a Redis implementation can replace the in-process one.
 */
import { sleep, type Clock } from '../clock';

/** A taken slot; release() is called when the request finished, so the window counts from its end. */
export interface WriteSlot {
  release(): void;
}

export type TryTakeResult = { ok: true; slot: WriteSlot } | { ok: false; retryAtMs: number };

/** Grants permission for one request (of the budget's kind) to the Sheets API. */
export interface WriteBudget {
  /** Takes a slot now, or says when one frees up. */
  tryTake(): Promise<TryTakeResult>;
  /** Waits until a slot is free and takes it; rejects when the signal aborts. */
  take(signal?: AbortSignal): Promise<WriteSlot>;
}

/**
 * Waits until `budget` grants a slot and returns it: tries, and when refused sleeps until the time the budget named
 * (at least 5 ms, so a budget that names "now" cannot spin). Rejects when the signal aborts. Both budgets' take().
 */
export async function takeWhenFree(
  budget: Pick<WriteBudget, 'tryTake'>,
  clock: Clock,
  signal?: AbortSignal,
): Promise<WriteSlot> {
  for (;;) {
    signal?.throwIfAborted();
    const r = await budget.tryTake();
    if (r.ok) return r.slot;
    await sleep(Math.max(5, r.retryAtMs - clock.now()), signal);
  }
}

/**
 * What a closed budget's take() throws instead of waiting, and a Sheets request instead of waiting out a retry
 * backoff: the service is stopping, the request's work stays in the ledger.
 */
export class BudgetClosedError extends Error {
  constructor(message = 'The service is stopping: this Sheets request would have to wait for the per-minute budget.') {
    super(message);
    this.name = 'BudgetClosedError';
  }
}

/**
 * `budget`, closed when `closed` aborts: take() then still grants a free slot, but throws BudgetClosedError instead of
 * waiting for one (up to a whole quota window), so a stopping service is not held by Sheets writes the ledger keeps.
 */
export function closableBudget(budget: WriteBudget, closed: AbortSignal): WriteBudget {
  return {
    tryTake: () => budget.tryTake(),
    async take(signal) {
      if (closed.aborted) {
        const r = await budget.tryTake();
        if (r.ok) return r.slot;
        throw new BudgetClosedError();
      }
      try {
        return await budget.take(signal ? AbortSignal.any([signal, closed]) : closed);
      } catch (err) {
        if (closed.aborted && !signal?.aborted) throw new BudgetClosedError();
        throw err;
      }
    },
  };
}

/**
 * In-process sliding window. A slot counts from when it was taken until `windowMs` after its request ended, so
 * however long a request is in flight, the server never sees more than `limit` writes in any window.
 */
export class SlidingWindowWriteBudget implements WriteBudget {
  private readonly slots: Array<{ until: number }> = [];

  constructor(private readonly opts: { limit: number; windowMs: number; clock: Clock }) {
    if (opts.limit < 1) throw new Error('A Sheets request budget needs a limit of at least 1 request per window.');
  }

  /** Slots currently counted (for tests and metrics). */
  inUse(): number {
    this.prune();
    return this.slots.length;
  }

  async tryTake(): Promise<TryTakeResult> {
    this.prune();
    if (this.slots.length < this.opts.limit) {
      // Until release, the slot is held indefinitely: an in-flight request may reach the server at any moment.
      const entry = { until: Number.POSITIVE_INFINITY };
      this.slots.push(entry);
      let released = false;
      return {
        ok: true,
        slot: {
          release: () => {
            if (released) return;
            released = true;
            entry.until = this.opts.clock.now() + this.opts.windowMs;
          },
        },
      };
    }
    const soonest = Math.min(...this.slots.map((s) => s.until));
    // All slots in flight: check again shortly.
    return { ok: false, retryAtMs: Number.isFinite(soonest) ? soonest : this.opts.clock.now() + 50 };
  }

  take(signal?: AbortSignal): Promise<WriteSlot> {
    return takeWhenFree(this, this.opts.clock, signal);
  }

  private prune(): void {
    const now = this.opts.clock.now();
    for (let i = this.slots.length - 1; i >= 0; i--) if (this.slots[i]!.until <= now) this.slots.splice(i, 1);
  }
}

/** A budget that never waits (tests of code paths that do not care about pacing). */
export const unlimitedWriteBudget: WriteBudget = {
  async tryTake() {
    return { ok: true, slot: { release() {} } };
  },
  async take() {
    return { release() {} };
  },
};
