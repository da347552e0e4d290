/**
 * Admission of POST /v1/runs: at most RUN_ACCEPT_CONCURRENCY run requests, and at most RUN_ACCEPT_MAX_BYTES of their
 * bodies together (by Content-Length), are read, planned and committed at once; the others wait in arrival order. A
 * request larger than the byte budget goes alone. Memory grows with the rows being accepted (about a hundred times a
 * request's body while it is parsed, planned and committed), so bytes bound it where a count alone cannot: 16 runs of
 * 5,000 rows at once peaked at 1.5 GB, while 16 small runs cost little. A waiting request's body is not read yet, so it stays in the socket instead of
 * the heap (100 tenants publishing 5,000 rows each at once no longer hold 100 parsed sheets), and acceptance, which is
 * CPU work, cannot take the event loop from the dispatcher all at once.
 */
import type { RequestHandler } from 'express';

/** What the admission is doing now, and the most it ever had in progress (for metrics and tests). */
export interface AdmissionStats {
  inProgress: number;
  waiting: number;
  peakInProgress: number;
  /** Content-Length of the requests in progress, together. */
  bytesInProgress: number;
  peakBytesInProgress: number;
}

/**
 * A FIFO semaphore with two budgets: `limit` holders at once, and `maxBytes` of their weights together (a holder
 * heavier than maxBytes is let in when nobody else holds). The head of the queue waits for room rather than letting
 * lighter requests pass it, so a large run is never starved by a stream of small ones.
 */
export class RunAdmission {
  private active = 0;
  private bytes = 0;
  private peak = 0;
  private peakBytes = 0;
  private readonly queue: Array<{ weight: number; grant(): void }> = [];

  constructor(
    readonly limit: number,
    readonly maxBytes = Infinity,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('RunAdmission needs a limit of at least 1.');
    if (!(maxBytes > 0)) throw new RangeError('RunAdmission needs a byte budget above 0.');
  }

  /**
   * Resolves with a release function once there is room for `weight` bytes (default 0); the release is safe to call
   * more than once. Rejects with the signal's reason if `signal` aborts first: the request leaves the queue at once
   * and never holds a slot.
   */
  acquire(requested = 0, signal?: AbortSignal): Promise<() => void> {
    // Finite and at most the budget (nothing counts without one): an unbounded weight would leave NaN on release.
    const weight = !Number.isFinite(this.maxBytes)
      ? 0
      : Number.isFinite(requested)
        ? Math.min(Math.max(0, requested), this.maxBytes)
        : this.maxBytes;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const grant = () => {
        signal?.removeEventListener('abort', leave);
        this.active += 1;
        this.bytes += weight;
        this.peak = Math.max(this.peak, this.active);
        this.peakBytes = Math.max(this.peakBytes, this.bytes);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active -= 1;
          this.bytes -= weight;
          this.admitWaiting();
        });
      };
      const waiter = { weight, grant };
      const leave = () => {
        const at = this.queue.indexOf(waiter);
        if (at < 0) return;
        this.queue.splice(at, 1);
        reject(signal!.reason);
        // The one that left may have been the head that held the others back.
        this.admitWaiting();
      };
      if (this.queue.length === 0 && this.fits(weight)) grant();
      else {
        this.queue.push(waiter);
        signal?.addEventListener('abort', leave, { once: true });
      }
    });
  }

  private fits(weight: number): boolean {
    return this.active === 0 || (this.active < this.limit && this.bytes + weight <= this.maxBytes);
  }

  private admitWaiting(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.weight)) this.queue.shift()!.grant();
  }

  stats(): AdmissionStats {
    return {
      inProgress: this.active,
      waiting: this.queue.length,
      peakInProgress: this.peak,
      bytesInProgress: this.bytes,
      peakBytesInProgress: this.peakBytes,
    };
  }
}

/** What the middleware hands the route's handler: the slot stays held while the handler runs. */
interface AdmittedRequest {
  /** The handler began: a hang-up no longer frees the slot. */
  begin(): void;
  /** The handler ended (answered or failed): the slot is freed once the response is closed too. */
  end(): void;
}

const admitted = new WeakMap<object, AdmittedRequest>();

/**
 * Express middleware holding a slot of `admission` from before the body is read until the answer is sent or the
 * client goes away, and, when the route's handler is wrapped in whileAdmitted, until that handler has ended. Mount it
 * before the body parser.
 */
export function admitRunRequest(admission: RunAdmission): RequestHandler {
  return (req, res, next) => {
    // A body of unknown length (chunked) may be as large as the whole byte budget allows, so it counts as that (its
    // parser still refuses it past BODY_LIMIT). Clients that send a Content-Length, as the add-on does, are unaffected.
    const length = Number(req.headers['content-length']);
    const weight = Number.isFinite(length) && length >= 0 ? length : Infinity;
    let release: (() => void) | undefined;
    let handling = false;
    const gone = new AbortController();
    // 'close' comes once: after the answer was sent, or when the client hung up (possibly while still waiting, and
    // then it leaves the queue). A handler still planning or committing keeps the slot: its memory and CPU are spent
    // whether or not anybody waits for the answer, so a caller that sends a body and hangs up cannot pass the caps.
    res.once('close', () => {
      gone.abort();
      if (!handling) release?.();
    });
    admission.acquire(weight, gone.signal).then(
      (r) => {
        release = r;
        if (gone.signal.aborted) return r();
        admitted.set(res, {
          begin: () => void (handling = true),
          end: () => {
            handling = false;
            if (gone.signal.aborted) r();
          },
        });
        next();
      },
      // Left the queue because the client went away: there is nobody to answer.
      () => undefined,
    );
  };
}

/**
 * Wraps the handler of a route mounted behind admitRunRequest, so that the request's slot is held until the handler
 * has ended (resolved or thrown), even when the client hung up meanwhile.
 */
export function whileAdmitted<Req, Res extends object>(
  handler: (req: Req, res: Res) => Promise<void>,
): (req: Req, res: Res) => Promise<void> {
  return async (req, res) => {
    const ticket = admitted.get(res);
    ticket?.begin();
    try {
      await handler(req, res);
    } finally {
      ticket?.end();
    }
  };
}
