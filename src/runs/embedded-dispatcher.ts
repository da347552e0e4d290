/**
 * The embedded dispatcher: a loop in this process that claims due rows with leases, a batch per tenant at a time,
 * and runs the publish step on them with many calls in flight (they are I/O). Critical sends go first: those that
 * decide when their tenant finishes under the pacer's sliding log (critical-sends.ts), the tenant with the fewest of
 * them first (ties: the tenant seen first). A tenant's other sends of the span have some slack; they go, earliest
 * deadline first, only when no tenant with critical sends can start. So a tenant that arrives with 10 rows while
 * others burst goes at once, and tenants publishing together each finish near their own minimum instead of all late
 * together. No tenant has more than `tenantConcurrency` calls in flight. Only a small window of claimed rows per
 * tenant is held in memory, whatever the backlog, and rows are claimed only for the tenant about to be served.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { EffectiveLimit } from '../pacing/tenant-pacer';
import { criticalSends, slackDeadline } from './critical-sends';
import type { Logger } from '../logger';
import type { Dispatcher } from './dispatcher';
import { createInstanceHeartbeat } from './dispatcher-heartbeat';
import type { RunLedger, RunRowRecord } from '../ledger/run-ledger';
import type { PublishStep, StepResult } from './publish-step';

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
  /**
   * The pacer's rule for a tenant's creations (`effectiveLimit` of the tier's limits), used only to order tenants:
   * the pacer still decides what may be sent. Without it every due row counts as critical (fewest due rows first).
   */
  pacing?: EffectiveLimit;
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
  /**
   * The next row is a create and this process's own creates fill the tenant's span until then (Infinity: until one of
   * its calls in flight ends): it is not started before, so the pacer is not asked for a slot it would refuse.
   */
  pacedUntil: number;
  /** When this tenant's creates made by this process took their pacer slots (as stamped), ascending, within the span. */
  creates: number[];
  /** The last claim found nothing due: not asked again before then (a commit or a finished row of it resets it). */
  idleUntil: number;
  /** Rows to send and not started: the last tenant poll's count, less the rows started since (approximate). */
  due: number;
  /** When this tenant's finished calls ended, ascending, trimmed to the pacer's span; calls in flight are `inFlight`. */
  sentAt: number[];
  /** Order in which tenants were first seen: equal critical counts go to the tenant seen first. */
  seenSeq: number;
  /** When `due` was last counted by the ledger (−Infinity: not yet). */
  countedAt: number;
}

/** How often runs left running with nothing to send are looked for, and how many are ended at a time. */
const UNENDED_CHECK_MS = 5_000;
const UNENDED_BATCH = 100;

/** Due rows recounted per tenant poll, at most (about a few milliseconds of index reads on SQLite). */
const COUNT_ROWS_PER_POLL = 30_000;

/** Counters of this dispatcher (tests and benchmarks read them). */
export interface EmbeddedDispatcherStats {
  /** Rows handed to the publish step. */
  started: number;
  /** Claim round trips to the ledger (each claims up to a batch). */
  claims: number;
  /** The most calls this process had in flight at once. */
  maxInFlight: number;
  /** Times a tenant's next create was held back because its own sends fill the pacer's span (no attempt was made). */
  pacedWaits: number;
  /** Of those, the times the wait outlasted a claim's window, so the tenant's claimed rows were given back. */
  pacedGiveBacks: number;
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
    // Webhook events parked for posts recorded since, which nothing applied (a crash right after the commit).
    upkeep: () => o.ledger.applyParkedWebhookEvents(),
  });
  const tenantCap = Math.max(1, Math.min(o.tenantConcurrency ?? o.concurrency, o.concurrency));
  const batch = Math.max(1, o.claimBatch ?? 16);
  const lanes = new Map<string, Lane>();
  const inFlight = new Set<Promise<void>>();
  const stats: EmbeddedDispatcherStats = { started: 0, claims: 0, maxInFlight: 0, pacedWaits: 0, pacedGiveBacks: 0 };
  // Rows held in a window longer than this are given back: the lease taken at the claim must still cover the call
  // (at least nine tenths of it), as it did when rows were claimed one by one just before their call.
  const windowTtlMs = Math.max(20, Math.floor(o.leaseMs / 10));
  let tenants: string[] = [];
  let tenantsAt = -Infinity;
  let unendedAt = -Infinity;
  let rotation = 0;
  let seen = 0;
  let running = false;
  let ticking = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const laneOf = (tenant: string): Lane => {
    let lane = lanes.get(tenant);
    if (!lane) {
      lane = {
        window: [],
        inFlight: 0,
        blockedUntil: 0,
        pacedUntil: 0,
        creates: [],
        idleUntil: 0,
        due: 0,
        sentAt: [],
        seenSeq: seen++,
        countedAt: -Infinity,
      };
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
    let result: StepResult;
    try {
      result = await o.step.processRow(row);
    } finally {
      // The call is over: from now on it counts among the tenant's sends in the span (or its due rows), not in flight,
      // in the same turn as its result reached the ledger, so a tenant poll never counts it twice or not at all.
      lane.inFlight--;
      // Held back until one of its calls ended: that is now (even if the call threw).
      if (lane.pacedUntil === Infinity) lane.pacedUntil = 0;
    }
    // Stamped as the pacer stamps it (whole milliseconds, rounded up), so the prediction is never early.
    if (o.pacing && result.slot?.kind === 'create') insertSorted(lane.creates, Math.ceil(result.slot.atMs));
    if (lane.pacedUntil > 0) {
      // Held back for a slot: the call that ended moves when the next one frees only if it took none. Recomputed,
      // not cleared: a tenant at its limit is not claimed for at every call end only to have its rows given back.
      const now = o.clock.now();
      const freeAt = createSlotFreeAt(lane, now);
      lane.pacedUntil = freeAt > now ? freeAt : 0;
    }
    // Deferred rows are to send again; a call that may have reached Postato counts as a send (a pacer refusal or a
    // 429 does not). Rows finished without a call count too: an overestimate only orders this tenant later.
    if (result.kind === 'deferred') lane.due++;
    if (o.pacing && !(result.kind === 'deferred' && result.tenantBlockedUntil)) lane.sentAt.push(o.clock.now());
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
        lane.idleUntil = 0;
        inFlight.delete(p);
        kick();
      });
    inFlight.add(p);
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight.size);
  }

  /**
   * When the tenant's next create may start by this process's own sends: now when a slot is free, else when the oldest
   * send that fills the span leaves it (Infinity: when a call in flight ends). The pacer still decides; this only
   * spares the publish step a refused attempt for every slot that frees while the tenant is at its limit.
   */
  function createSlotFreeAt(lane: Lane, now: number): number {
    if (!o.pacing) return now;
    const cutoff = now - o.pacing.spanMs;
    let drop = 0;
    while (drop < lane.creates.length && lane.creates[drop]! <= cutoff) drop++;
    if (drop > 0) lane.creates.splice(0, drop);
    // Calls in flight are stamped when they end, after every send already stamped; each may take a create slot.
    const over = lane.inFlight + lane.creates.length - o.pacing.max;
    if (over < 0) return now;
    return over < lane.creates.length ? lane.creates[over]! + o.pacing.spanMs : Infinity;
  }

  /** The next row of a tenant: from its window, else up to `want` rows from the ledger; null when it has none due. */
  async function nextRow(tenant: string, lane: Lane, want: number): Promise<Lane['window'][number] | null> {
    const now = o.clock.now();
    // Rows held too long go back together (one ledger transaction); rows of one claim age together.
    const expired: RunRowRecord[] = [];
    while (lane.window.length > 0 && now - lane.window[0]!.claimedAt > windowTtlMs)
      expired.push(lane.window.shift()!.row);
    if (expired.length > 0) await o.ledger.releaseClaims(expired);
    if (lane.window.length > 0) return lane.window.shift()!;
    if (lane.idleUntil > now) return null;
    stats.claims++;
    const rows = await o.ledger.claimBatch(tenant, owner, now, o.leaseMs, want, heartbeat.staleBefore(now));
    if (rows.length === 0) {
      lane.idleUntil = now + o.pollMs;
      return null;
    }
    lane.window = rows.slice(1).map((row) => ({ row, claimedAt: now }));
    return { row: rows[0]!, claimedAt: now };
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
      if (o.clock.now() - tenantsAt >= o.pollMs) await pollTenants();
      if (o.clock.now() - unendedAt >= UNENDED_CHECK_MS) await endUnendedRuns();
      while (running && inFlight.size < o.concurrency) {
        const next = pickNext(o.clock.now());
        if (!next) break;
        const claimed = await nextRow(next.tenant, next.lane, next.want);
        if (!claimed) continue;
        if (claimed.row.kind === 'create') {
          const now = o.clock.now();
          const freeAt = createSlotFreeAt(next.lane, now);
          if (freeAt > now) {
            // Still claimed, it waits at the head of the window (given back if it waits longer than a window's TTL).
            next.lane.window.unshift(claimed);
            next.lane.pacedUntil = freeAt;
            stats.pacedWaits++;
            if (freeAt - now > windowTtlMs) {
              stats.pacedGiveBacks++;
              await giveBack(next.lane);
            }
            continue;
          }
        }
        next.lane.due = Math.max(0, next.lane.due - 1);
        start(claimed.row, next.lane);
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

  /**
   * Reads the tenants with work and recounts the due rows of some: every tenant not counted yet, then the ones counted
   * longest ago while their last counts add up to at most COUNT_ROWS_PER_POLL (a large backlog is recounted over a few
   * polls, never in one long read). Between counts a lane keeps its own tally. Lanes of tenants gone and idle go.
   */
  /**
   * Ends runs left running with nothing to send: a run ends when its last row finishes, and that check can be lost (the
   * process stopped between the row's result and the check, or the check failed). Also at start, for a crash.
   */
  async function endUnendedRuns() {
    unendedAt = o.clock.now();
    try {
      for (const runId of await o.ledger.activeRunsWithNothingToSend(UNENDED_BATCH)) {
        if (!(await o.ledger.finishRunIfComplete(runId))) continue;
        log.info({ runId }, 'run finished');
        o.onRunFinished?.(runId);
      }
    } catch (err) {
      log.warn({ err: { message: (err as Error)?.message } }, 'ending runs with nothing left to send failed');
    }
  }

  async function pollTenants() {
    const now = o.clock.now();
    const skip = new Set<string>();
    let rows = 0;
    let counted = 0;
    for (const [tenant, lane] of [...lanes].sort(([, a], [, b]) => a.countedAt - b.countedAt)) {
      if (lane.countedAt === -Infinity) continue;
      const n = lane.due + lane.inFlight;
      if (counted > 0 && rows + n > COUNT_ROWS_PER_POLL) skip.add(tenant);
      else {
        rows += n;
        counted++;
      }
    }
    const active = await o.ledger.activeTenants(now, skip);
    tenantsAt = now;
    for (const { tenantId, due } of active) {
      const lane = laneOf(tenantId);
      if (due === undefined) continue;
      lane.due = Math.max(0, due - lane.inFlight);
      lane.countedAt = now;
    }
    tenants = active.map((a) => a.tenantId).sort((a, b) => laneOf(a).seenSeq - laneOf(b).seenSeq);
    for (const [t, lane] of lanes)
      if (!tenants.includes(t) && lane.inFlight === 0 && lane.window.length === 0) lanes.delete(t);
  }

  /** This tenant's sends inside the pacer's span, counting calls in flight (older ones are dropped). */
  function sendsInSpan(lane: Lane, now: number): number {
    if (!o.pacing) return lane.inFlight;
    const cutoff = now - o.pacing.spanMs;
    let drop = 0;
    while (drop < lane.sentAt.length && lane.sentAt[drop]! <= cutoff) drop++;
    if (drop > 0) lane.sentAt.splice(0, drop);
    return lane.inFlight + lane.sentAt.length;
  }

  const canStart = (lane: Lane, now: number) =>
    lane.blockedUntil <= now &&
    lane.pacedUntil <= now &&
    lane.inFlight < tenantCap &&
    (lane.window.length > 0 || lane.idleUntil <= now);

  /**
   * Whom to serve next: the startable tenant with the fewest critical sends (tenants are kept in first-seen order,
   * so ties go to the earlier one), claiming only those; else, for slack work, the one whose deadline comes first.
   */
  function pickNext(now: number): { tenant: string; lane: Lane; want: number } | null {
    let best: { tenant: string; lane: Lane; want: number } | null = null;
    for (const tenant of tenants) {
      const lane = laneOf(tenant);
      if (!canStart(lane, now)) continue;
      const critical = criticalSends(lane.due, sendsInSpan(lane, now), o.pacing?.max ?? Infinity);
      if (critical > 0 && (!best || critical < best.want)) best = { tenant, lane, want: critical };
    }
    if (best) return { ...best, want: Math.min(batch, best.want) };
    // Slack work, earliest deadline first: a tenant whose critical sends have just left the span (its next chain
    // link comes due first) goes before one whose deadline is a span away; equal deadlines take turns.
    let slack: { tenant: string; lane: Lane; deadline: number } | null = null;
    for (let i = 0; i < tenants.length; i++) {
      rotation = (rotation + 1) % tenants.length;
      const tenant = tenants[rotation]!;
      const lane = laneOf(tenant);
      if (!canStart(lane, now)) continue;
      sendsInSpan(lane, now); // trims lane.sentAt to the span
      const deadline = o.pacing ? slackDeadline(lane.due, lane.sentAt, lane.inFlight, o.pacing, now) : Infinity;
      if (!slack || deadline < slack.deadline) slack = { tenant, lane, deadline };
    }
    return slack && { tenant: slack.tenant, lane: slack.lane, want: batch };
  }

  /** The poll interval, or sooner when a paced tenant's wait ends first. */
  function nextWake(): number {
    const now = o.clock.now();
    let wake = o.pollMs;
    for (const lane of lanes.values()) {
      if (lane.blockedUntil > now) wake = Math.min(wake, lane.blockedUntil - now);
      if (lane.pacedUntil > now) wake = Math.min(wake, lane.pacedUntil - now);
    }
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

/** Inserts `value` into ascending `list` (calls end out of order, but nearly in order: the scan from the end is short). */
function insertSorted(list: number[], value: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > value) i--;
  list.splice(i, 0, value);
}
