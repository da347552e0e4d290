/**
 * A dispatcher instance's heartbeat in the ledger (its instance registry). Claims take over a row whose lease is
 * still running when its owner's heartbeat is stale or gone, so a restart after a crash resumes within seconds while
 * a live owner's slow call keeps its lease.
 */
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { InstanceRegistry } from '../ledger/run-ledger';

/** Heartbeat cadence and staleness bound of a dispatcher. */
export interface HeartbeatTiming {
  /** How often the instance refreshes its heartbeat. */
  intervalMs: number;
  /** An owner whose heartbeat is older than this is treated as dead. */
  staleMs: number;
}

/** How often the upkeep runs, about (beats are this far apart or closer). */
const UPKEEP_EVERY_MS = 5000;

/** Instances silent this long are deleted (an unregistered owner counts as dead anyway; this only keeps the table small). */
const PRUNE_AFTER_MS = 60 * 60 * 1000;

/**
 * The timing for a lease and a staleness bound: beats every min(5 s, stale / 3, lease / 4), so three beats fit in
 * the staleness bound and a live owner is heard from several times before its lease could run out.
 */
export function heartbeatTimingOf(leaseMs: number, staleMs: number): HeartbeatTiming {
  const intervalMs = Math.max(50, Math.floor(Math.min(5000, staleMs / 3, leaseMs / 4)));
  return { intervalMs, staleMs: Math.max(staleMs, intervalMs * 3) };
}

/** A running heartbeat of one dispatcher instance. */
export interface InstanceHeartbeat {
  readonly ownerId: string;
  readonly timing: HeartbeatTiming;
  /** True once the first heartbeat is recorded: the instance must not claim before, or others could take its rows. */
  registered(): boolean;
  /** Resolves once registered, or once stopped. */
  ready(): Promise<void>;
  /** Registers now and keeps beating on an unref'd timer. */
  start(): void;
  /** Stops beating and removes the instance (call after its in-flight calls are recorded). */
  stop(): Promise<void>;
  /** Owners whose last heartbeat is before this time are dead. */
  staleBefore(now: number): number;
}

export interface InstanceHeartbeatOptions {
  /** Where heartbeats are kept (the ledger's dispatcher_instances). */
  instances: InstanceRegistry;
  ownerId: string;
  clock: Clock;
  logger: Logger;
  /** DISPATCH_LEASE_MS */
  leaseMs: number;
  /** DISPATCH_STALE_MS */
  staleMs: number;
  /**
   * Ledger upkeep every instance does at start and then every UPKEEP_EVERY_MS or so, with a beat (at most one at a
   * time, never delaying a beat): the reconcile of parked webhook events. A failure is logged and tried again later.
   */
  upkeep?: () => Promise<unknown>;
}

/** Creates the heartbeat of one dispatcher instance. */
export function createInstanceHeartbeat(o: InstanceHeartbeatOptions): InstanceHeartbeat {
  const timing = heartbeatTimingOf(o.leaseMs, o.staleMs);
  let timer: NodeJS.Timeout | undefined;
  let isRegistered = false;
  let stopped = false;
  let beating: Promise<void> | undefined;
  let upkeeping: Promise<void> | undefined;
  // Counted in beats, not clock time: a test's stopped clock must not stop it.
  const upkeepEveryBeats = Math.max(1, Math.round(UPKEEP_EVERY_MS / timing.intervalMs));
  let beatsToUpkeep = 0;
  let resolveReady: () => void = () => undefined;
  const readyPromise = new Promise<void>((r) => (resolveReady = r));

  async function beatOnce(): Promise<void> {
    const now = o.clock.now();
    try {
      await o.instances.beat(o.ownerId, now);
      if (stopped) return;
      if (!isRegistered) {
        isRegistered = true;
        resolveReady();
        await o.instances.prune(now - PRUNE_AFTER_MS);
      }
    } catch (err) {
      // A missed beat is retried on the next tick; only a run of misses longer than staleMs lets others take over.
      o.logger.warn({ err: { message: (err as Error)?.message }, owner: o.ownerId }, 'dispatcher heartbeat failed');
    }
  }

  function beat() {
    if (stopped) return;
    if (o.upkeep && !upkeeping && beatsToUpkeep-- <= 0) {
      beatsToUpkeep = upkeepEveryBeats - 1;
      const upkeep = o.upkeep;
      upkeeping = Promise.resolve()
        .then(() => upkeep())
        .then(
          () => undefined,
          (err: unknown) =>
            o.logger.warn({ err: { message: (err as Error)?.message }, owner: o.ownerId }, 'ledger upkeep failed'),
        )
        .finally(() => (upkeeping = undefined));
    }
    if (beating) return;
    beating = beatOnce().finally(() => (beating = undefined));
  }

  return {
    ownerId: o.ownerId,
    timing,
    registered: () => isRegistered,
    ready: () => readyPromise,
    start() {
      if (timer || stopped) return;
      beat();
      timer = setInterval(beat, timing.intervalMs);
      timer.unref();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      resolveReady();
      await Promise.all([beating, upkeeping]);
      try {
        await o.instances.remove(o.ownerId);
      } catch (err) {
        o.logger.warn(
          { err: { message: (err as Error)?.message }, owner: o.ownerId },
          'could not remove dispatcher instance',
        );
      }
    },
    staleBefore: (now) => now - timing.staleMs,
  };
}
