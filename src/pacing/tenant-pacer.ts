/**
 * Per-tenant pacing of Postato calls: the TenantPacer port, the exact sliding-log rule every adapter shares, and the
 * in-memory adapter (one process). SQLite and Redis adapters live next to it and share the same arithmetic.
 *
 * Why a sliding log and not rate-limiter-flexible: its limiters (RateLimiterMemory/Redis/SQLite, Bursty, Queue) are
 * fixed-window or token-bucket counters, which allow up to 2L requests in some rolling window straddling a window
 * edge. Postato (and the sandbox) count in a rolling window, so only an exact log of the last L' send times keeps us
 * under the limit while still letting a cold start burst L' at once, which is what gets a run close to the
 * physical minimum time.
 *
 * Why a send is stamped when its answer came, not when its slot was taken: Postato counts a request when it arrives,
 * and the time between our slot and its arrival (the ledger write before the call, the event loop, the network) has
 * no bound a fixed margin could cover. The answer time is always at or after the arrival, so a log of answer times
 * never shows Postato fewer requests in a window than it counted. While the call is in flight its slot holds a
 * provisional stamp `maxFlightMs` ahead (a crashed caller's slot still expires), and `sent` moves it to the answer time.
 */
import type { Clock } from '../clock';
import type { Config } from '../config';

/** The limits the pacer enforces per tenant: creations, and writes (PATCH/DELETE), plus a safety margin. */
export interface PacerLimits {
  create: { limit: number; windowMs: number };
  write: { limit: number; windowMs: number };
  /** Fraction of the limit kept in reserve for clock skew and latency, e.g. 0.02. */
  safetyMargin: number;
  /**
   * The longest a call may stay in flight (the client's per-request timeout): how far ahead a taken slot is stamped
   * until `sent` gives its answer time. 0 stamps the slot at the time it was taken.
   */
  maxFlightMs?: number;
}

/** Which Postato budget a call draws from. */
export type PaceKind = 'create' | 'write';

/** Outcome of tryAcquire: a reserved slot (to hand back to `sent`), or the earliest time worth asking again. */
export type AcquireResult = { ok: true; slot: string } | { ok: false; retryAtMs: number };

/** One limiter per Postato tenant and kind, shared by all runs (and, for SQLite/Redis, all processes). */
export interface TenantPacer {
  /** Reserves a slot if one is free now; otherwise says when to ask again. Never blocks. */
  tryAcquire(tenant: string, kind: PaceKind): Promise<AcquireResult>;
  /**
   * The call of a reserved slot got its answer (or gave up) at `atMs`: from now on that send counts from then.
   * Unknown slots (already trimmed) are ignored.
   */
  sent(tenant: string, kind: PaceKind, slot: string, atMs: number): Promise<void>;
  /** After a 429: no slot for this tenant and kind before untilMs. */
  pause(tenant: string, kind: PaceKind, untilMs: number): Promise<void>;
  /** Earliest time a slot may be free (for ETAs). */
  nextFreeAt(tenant: string, kind: PaceKind): Promise<number>;
  close(): Promise<void>;
}

/** The effective rule for one kind: at most `max` sends in any span of `spanMs`. */
export interface EffectiveLimit {
  max: number;
  spanMs: number;
}

/**
 * L' = max(1, floor(L × (1 − safetyMargin))) sends per W + m, with m = max(50 ms, 1 % of W). The count margin absorbs
 * a Postato counter that is slightly stricter than documented; the time margin absorbs latency between our clock
 * reading and Postato's arrival stamp (a request sent late never makes two sends land closer than W).
 */
export function effectiveLimit(limits: PacerLimits, kind: PaceKind): EffectiveLimit {
  const { limit, windowMs } = limits[kind];
  const max = Math.max(1, Math.floor(limit * (1 - limits.safetyMargin)));
  const spanMs = windowMs + Math.max(50, Math.ceil(windowMs * 0.01));
  return { max, spanMs };
}

/** Outcome of the sliding-log rule: free now, or the earliest time worth asking again. */
export type SlidingLogDecision = { ok: true } | { ok: false; retryAtMs: number };

/**
 * The sliding-log decision over ascending send times that are still inside the span (t > now − spanMs).
 * Free when fewer than max remain; otherwise the slot frees when the (n − max)-th oldest leaves the span. A blocker
 * stamped in the future is a call still in flight: it will be stamped no earlier than now, so the earliest a slot can
 * free is now + spanMs.
 */
export function slidingLogDecision(
  liveTimesAsc: readonly number[],
  now: number,
  rule: EffectiveLimit,
): SlidingLogDecision {
  const n = liveTimesAsc.length;
  if (n < rule.max) return { ok: true };
  return blockedBy(liveTimesAsc[n - rule.max] as number, now, rule);
}

/** The refusal when `blocker`, the (n − max)-th oldest live send, must leave the span before a slot frees. */
export function blockedBy(blocker: number, now: number, rule: EffectiveLimit): SlidingLogDecision {
  return { ok: false, retryAtMs: Math.max(now + 1, Math.min(blocker, now) + rule.spanMs) };
}

/** Reads the pacing settings (POSTATO_CREATE_LIMIT, POSTATO_UPDATE_LIMIT, POSTATO_WINDOW_MS, POSTATO_SAFETY_MARGIN). */
export function pacerLimitsFromConfig(config: Config): PacerLimits {
  return {
    create: { limit: config.POSTATO_CREATE_LIMIT, windowMs: config.POSTATO_WINDOW_MS },
    write: { limit: config.POSTATO_UPDATE_LIMIT, windowMs: config.POSTATO_WINDOW_MS },
    safetyMargin: config.POSTATO_SAFETY_MARGIN,
    maxFlightMs: config.POSTATO_TIMEOUT_MS,
  };
}

interface Lane {
  sends: number[]; // ascending
  pausedUntil: number;
}

/** An in-process pacer: exact for one process (the embedded tier without other instances, tests, benches). */
export function createMemoryPacer(opts: { limits: PacerLimits; clock: Clock }): TenantPacer {
  const lanes = new Map<string, Lane>();
  const rules = { create: effectiveLimit(opts.limits, 'create'), write: effectiveLimit(opts.limits, 'write') };

  const laneFor = (tenant: string, kind: PaceKind, now: number): Lane => {
    const key = `${kind}\u0000${tenant}`;
    let lane = lanes.get(key);
    if (!lane) {
      lane = { sends: [], pausedUntil: 0 };
      lanes.set(key, lane);
    }
    const cutoff = now - rules[kind].spanMs;
    let drop = 0;
    while (drop < lane.sends.length && (lane.sends[drop] as number) <= cutoff) drop++;
    if (drop > 0) lane.sends.splice(0, drop);
    return lane;
  };

  const insertOrdered = (sends: number[], at: number) => {
    // Insert in order: a clock that steps backwards must not corrupt the log.
    let i = sends.length;
    while (i > 0 && (sends[i - 1] as number) > at) i--;
    sends.splice(i, 0, at);
  };

  const decide = (tenant: string, kind: PaceKind, now: number): { lane: Lane; result: SlidingLogDecision } => {
    const lane = laneFor(tenant, kind, now);
    if (lane.pausedUntil > now) return { lane, result: { ok: false, retryAtMs: lane.pausedUntil } };
    return { lane, result: slidingLogDecision(lane.sends, now, rules[kind]) };
  };

  return {
    async tryAcquire(tenant, kind) {
      const now = opts.clock.now();
      const { lane, result } = decide(tenant, kind, now);
      if (!result.ok) return result;
      const provisional = now + (opts.limits.maxFlightMs ?? 0);
      insertOrdered(lane.sends, provisional);
      // Stamps of equal value are interchangeable, so the provisional stamp itself names the slot.
      return { ok: true, slot: String(provisional) };
    },
    async sent(tenant, kind, slot, atMs) {
      const lane = laneFor(tenant, kind, opts.clock.now());
      const i = lane.sends.indexOf(Number(slot));
      if (i < 0) return;
      lane.sends.splice(i, 1);
      insertOrdered(lane.sends, atMs);
    },
    async pause(tenant, kind, untilMs) {
      const lane = laneFor(tenant, kind, opts.clock.now());
      lane.pausedUntil = Math.max(lane.pausedUntil, untilMs);
    },
    async nextFreeAt(tenant, kind) {
      const now = opts.clock.now();
      const { result } = decide(tenant, kind, now);
      return result.ok ? now : result.retryAtMs;
    },
    async close() {
      lanes.clear();
    },
  };
}
