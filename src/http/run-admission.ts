/**
 * Admission of POST /v1/runs: at most RUN_ACCEPT_CONCURRENCY run requests are read, planned and committed at once;
 * the others wait in arrival order. A waiting request's body is not read yet, so it stays in the socket instead of
 * the heap (100 tenants publishing 5,000 rows each at once no longer hold 100 parsed sheets), and acceptance, which is
 * CPU work, cannot take the event loop from the dispatcher all at once.
 */
import type { RequestHandler } from 'express';

/** What the admission is doing now, and the most it ever had in progress (for metrics and tests). */
export interface AdmissionStats {
  inProgress: number;
  waiting: number;
  peakInProgress: number;
}

/** A FIFO counting semaphore: `limit` holders at once, the rest queued. */
export class RunAdmission {
  private active = 0;
  private peak = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('RunAdmission needs a limit of at least 1.');
  }

  /** Resolves with a release function once a slot is free; the release is safe to call more than once. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.active += 1;
        this.peak = Math.max(this.peak, this.active);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active -= 1;
          this.queue.shift()?.();
        });
      };
      if (this.active < this.limit) grant();
      else this.queue.push(grant);
    });
  }

  stats(): AdmissionStats {
    return { inProgress: this.active, waiting: this.queue.length, peakInProgress: this.peak };
  }
}

/**
 * Express middleware holding a slot of `admission` from before the body is read until the answer is sent or the
 * client goes away. Mount it before the body parser.
 */
export function admitRunRequest(admission: RunAdmission): RequestHandler {
  return (_req, res, next) => {
    let release: (() => void) | undefined;
    let gone = false;
    // 'close' comes once: after the answer was sent, or when the client hung up (possibly while still waiting).
    res.once('close', () => {
      gone = true;
      release?.();
    });
    void admission.acquire().then((r) => {
      release = r;
      if (gone) r();
      else next();
    });
  };
}
