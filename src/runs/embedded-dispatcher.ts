/**
 * The embedded dispatcher: a loop in this process that claims due rows with leases, a batch per tenant at a time,
 * and runs the publish step on them with many calls in flight (they are I/O). Tenants take turns one row at a time
 * (round-robin over the tenants whose pacer has budget), and no tenant has more than `tenantConcurrency` calls in
 * flight, so a tenant that arrives while others burst gets its share of the pool at once instead of queueing behind
 * their backlogs. Only a small window of claimed rows per tenant is held in memory, whatever the backlog.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Dispatcher } from './dispatcher';
import { createInstanceHeartbeat } from './dispatcher-heartbeat';
import type { RunLedger, RunRowRecord } from '../ledger/run-ledger';
import type { PublishStep } from './publish-step';

export interface EmbeddedDispatcherOptions {
  ledger: RunLedger;
  step: PublishStep;
  clock: Clock;
  logger: Logger;
  /** DISPATCH_POLL_MS */
  pollMs: number;
  /** DISPATCH_LEASE_MS: a claimed row is reclaimable by others after this long, even if its owner still heartbeats. */
  leaseMs: number;
  /** DISPATCH_STALE_MS: a row's lease is taken over sooner when its owner's heartbeat is this old (a crash). */
  staleMs?: number;
  /** DISPATCH_CONCURRENCY: calls in flight in this process. */
  concurrency: number;
  /** DISPATCH_TENANT_CONCURRENCY: calls in flight per tenant (default: all of `concurrency`). */
  tenantConcurrency?: number;
  /** Rows claimed per tenant per round trip (default 16); at most this many wait in memory per tenant. */
  claimBatch?: number;
  /** Called after a row finished (the run may have ended). */
  onRowFinished?: (runId: string, spreadsheetId: string) => void;
  /** Called once when a run ended because its last row finished (the runs tab records it). */
  onRunFinished?: (runId: string) => void;
}

/** One tenant's share of this dispatcher. */
interface Lane {
  /** Claimed (leased to us) and not started, oldest claim first. */
  window: Array<{ row: RunRowRecord; claimedAt: number }>;
  inFlight: number;
  /** Paced or paused (pacer, 429) until then: no claims, no starts. */
  blockedUntil: number;
  /** The last claim found nothing due: not asked again before then (a commit or a finished row of it resets it). */
  idleUntil: number;
}

/** Counters of this dispatcher (tests and benchmarks read them). */
export interface EmbeddedDispatcherStats {
  /** Rows handed to the publish step. */
  started: number;
  /** Claim round trips to the ledger (each claims up to a batch). */
  claims: number;
  /** The most calls this process had in flight at once. */
  maxInFlight: number;
}

/** Creates the in-process dispatcher. */
export function createEmbeddedDispatcher(
  o: EmbeddedDispatcherOptions,
): Dispatcher & { idle(): boolean; stats(): EmbeddedDispatcherStats } {
  const owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const log = o.logger.child({ component: 'dispatcher' });
  const heartbeat = createInstanceHeartbeat({
    instances: o.ledger.instances,
    ownerId: owner,
    clock: o.clock,
    logger: log,
    leaseMs: o.leaseMs,
    staleMs: o.staleMs ?? 15_000,
  });
  const tenantCap = Math.max(1, Math.min(o.tenantConcurrency ?? o.concurrency, o.concurrency));
  const batch = Math.max(1, o.claimBatch ?? 16);
  const lanes = new Map<string, Lane>();
  const inFlight = new Set<Promise<void>>();
  const stats: EmbeddedDispatcherStats = { started: 0, claims: 0, maxInFlight: 0 };
  // Rows held in a window longer than this are given back: the lease taken at the claim must still cover the call
  // (at least nine tenths of it), as it did when rows were claimed one by one just before their call.
  const windowTtlMs = Math.max(20, Math.floor(o.leaseMs / 10));
  let tenants: string[] = [];
  let tenantsAt = -Infinity;
  let rotation = 0;
  let running = false;
  let ticking = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const laneOf = (tenant: string): Lane => {
    let lane = lanes.get(tenant);
    if (!lane) {
      lane = { window: [], inFlight: 0, blockedUntil: 0, idleUntil: 0 };
      lanes.set(tenant, lane);
    }
    return lane;
  };

  function schedule(ms: number) {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void tick(), Math.max(0, ms));
  }

  async function giveBack(lane: Lane) {
    if (lane.window.length === 0) return;
    const rows = lane.window.map((w) => w.row);
    lane.window = [];
    await o.ledger.releaseClaims(rows);
  }

  async function runOne(row: RunRowRecord, lane: Lane) {
    const result = await o.step.processRow(row);
    if (result.kind === 'deferred' && result.tenantBlockedUntil) {
      lane.blockedUntil = Math.max(lane.blockedUntil, result.tenantBlockedUntil);
      // The tenant waits for its pacer: rows claimed for it go back, so their leases do not run out while held.
      await giveBack(lane);
    }
    if (result.kind === 'finished') {
      if (await o.ledger.finishRunIfComplete(row.run_id)) {
        log.info({ runId: row.run_id }, 'run finished');
        o.onRunFinished?.(row.run_id);
      }
      o.onRowFinished?.(row.run_id, row.spreadsheet_id);
    }
  }

  function start(row: RunRowRecord, lane: Lane) {
    lane.inFlight++;
    stats.started++;
    const p = runOne(row, lane)
      .catch((err) => log.error({ err: { message: (err as Error)?.message }, rowId: row.id }, 'dispatch failed'))
      .finally(() => {
        lane.inFlight--;
        lane.idleUntil = 0;
        inFlight.delete(p);
        kick();
      });
    inFlight.add(p);
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight.size);
  }

  /** The next row of a tenant: from its window, else a fresh batch from the ledger; null when it has none due. */
  async function nextRow(tenant: string, lane: Lane): Promise<RunRowRecord | null> {
    const now = o.clock.now();
    // Rows held too long go back together (one ledger transaction); rows of one claim age together.
    const expired: RunRowRecord[] = [];
    while (lane.window.length > 0 && now - lane.window[0]!.claimedAt > windowTtlMs)
      expired.push(lane.window.shift()!.row);
    if (expired.length > 0) await o.ledger.releaseClaims(expired);
    if (lane.window.length > 0) return lane.window.shift()!.row;
    if (lane.idleUntil > now) return null;
    stats.claims++;
    const rows = await o.ledger.claimBatch(tenant, owner, now, o.leaseMs, batch, heartbeat.staleBefore(now));
    if (rows.length === 0) {
      lane.idleUntil = now + o.pollMs;
      return null;
    }
    lane.window = rows.slice(1).map((row) => ({ row, claimedAt: now }));
    return rows[0]!;
  }

  async function tick(): Promise<void> {
    if (!running) return;
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    try {
      // Claiming before the first heartbeat is recorded would let other instances take this one's rows.
      if (!heartbeat.registered()) return;
      const now = o.clock.now();
      if (now - tenantsAt >= o.pollMs) {
        tenants = await o.ledger.activeTenants();
        tenantsAt = now;
        for (const [t, lane] of lanes)
          if (!tenants.includes(t) && lane.inFlight === 0 && lane.window.length === 0) lanes.delete(t);
      }
      // Rounds: every tenant with budget starts one row per round, so a small tenant waits one round, not a backlog.
      let progress = true;
      while (running && progress && inFlight.size < o.concurrency && tenants.length > 0) {
        progress = false;
        for (let i = 0; i < tenants.length && running && inFlight.size < o.concurrency; i++) {
          rotation = (rotation + 1) % tenants.length;
          const tenant = tenants[rotation]!;
          const lane = laneOf(tenant);
          if (lane.blockedUntil > o.clock.now() || lane.inFlight >= tenantCap) continue;
          const row = await nextRow(tenant, lane);
          if (!row) continue;
          start(row, lane);
          progress = true;
        }
      }
    } catch (err) {
      log.error({ err: { message: (err as Error)?.message } }, 'dispatcher tick failed');
    } finally {
      ticking = false;
      if (again) {
        again = false;
        schedule(0);
      } else schedule(nextWake());
    }
  }

  /** The poll interval, or sooner when a paced tenant's wait ends first. */
  function nextWake(): number {
    const now = o.clock.now();
    let wake = o.pollMs;
    for (const lane of lanes.values()) if (lane.blockedUntil > now) wake = Math.min(wake, lane.blockedUntil - now);
    return wake;
  }

  function kick() {
    if (!running) return;
    if (ticking) again = true;
    else schedule(0);
  }

  return {
    start() {
      if (running) return;
      running = true;
      log.info({ owner, concurrency: o.concurrency, tenantConcurrency: tenantCap }, 'dispatcher started');
      heartbeat.start();
      void heartbeat.ready().then(() => kick());
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      while (ticking) await new Promise((r) => setTimeout(r, 5));
      await Promise.allSettled([...inFlight]);
      for (const lane of lanes.values()) await giveBack(lane).catch(() => undefined);
      // Only now: the leases of calls that were in flight stayed protected until their results were recorded.
      await heartbeat.stop();
      log.info('dispatcher stopped');
    },
    kick() {
      // New work (a committed run): look at the tenants again now, not at the next poll.
      tenantsAt = -Infinity;
      for (const lane of lanes.values()) lane.idleUntil = 0;
      kick();
    },
    idle: () => inFlight.size === 0 && !ticking,
    stats: () => ({ ...stats }),
  };
}
