/**
 * The scale-out dispatcher: one BullMQ job per ledger row (job id = row id, delay = due time), processed by workers in
 * every instance through the same publish step as the embedded dispatcher. The ledger stays the truth: a worker claims
 * the row with a lease before acting, and a periodic sweep re-enqueues any row that lost its job.
 */
import { randomBytes } from 'node:crypto';
import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Dispatcher } from './dispatcher';
import { createInstanceHeartbeat } from './dispatcher-heartbeat';
import type { PublishStep } from './publish-step';
import type { RowToEnqueue, RunLedger, RunRowRecord } from '../ledger/run-ledger';

export interface BullmqDispatcherOptions {
  ledger: RunLedger;
  step: PublishStep;
  clock: Clock;
  logger: Logger;
  /** A connection with `maxRetriesPerRequest: null` (BullMQ needs it); the caller owns and closes it. */
  redis: Redis;
  /** REDIS_PREFIX: every BullMQ key lives under it, so deployments and test runs can share one Redis. */
  prefix: string;
  /** DISPATCH_LEASE_MS: a claimed row is reclaimable after this long; also bounds BullMQ's lock and stall check. */
  leaseMs: number;
  /** DISPATCH_STALE_MS: a row's lease is taken over sooner when its owner's heartbeat is this old (a crash). */
  staleMs?: number;
  /** DISPATCH_CONCURRENCY: jobs processed at once by this instance. */
  concurrency: number;
  /** DISPATCH_TENANT_CONCURRENCY: calls in flight per tenant in this instance (default: all of `concurrency`). */
  tenantConcurrency?: number;
  /** How often this instance enqueues rows that have no job (a crash between commit and enqueue). */
  sweepMs?: number;
  /** Called after a row finished (the run may have ended). */
  onRowFinished?: (runId: string, spreadsheetId: string) => void;
  /** Called once when a run ended because its last row finished (the runs tab records it). */
  onRunFinished?: (runId: string) => void;
  /**
   * The pacer's effective rule (max sends per span). Rows of a paced tenant then wake at the pacer's steady rate
   * instead of all at once when the tenant's first slot frees.
   */
  spread?: { max: number; spanMs: number };
}

/** Counters of this instance's worker (benchmarks read them to see how much work pacing costs). */
export interface BullmqDispatcherStats {
  /** Jobs picked up. */
  jobs: number;
  /** Rows claimed and handed to the publish step. */
  steps: number;
  /** Jobs moved back to delayed (not due, paced, 429, backoff, leased elsewhere, tenant at its in-flight cap). */
  delayed: number;
  /** The most rows this instance had in the publish step at once. */
  maxInFlight: number;
}

/** The queue's name (BullMQ forbids ':' in it). */
export const DISPATCH_QUEUE = 'dispatch';

/** BullMQ job ids may not contain ':' (row ids do); '|' never occurs in a row id. */
export function jobIdOf(rowId: string): string {
  return rowId.replaceAll(':', '|');
}

interface RowJob {
  rowId: string;
  /** The row's tenant, so a due job can claim at once (one ledger round trip); absent on jobs of older versions. */
  tenantId?: string;
}

/** Rows one sweep looks at, at most (sending rows, and the tenants' shares of pending rows together). */
const SWEEP_BATCH = 2000;
/** Each tenant's first rows a sweep looks at, at least, however many tenants share SWEEP_BATCH. */
const SWEEP_MIN_PER_TENANT = 32;
/** Jobs checked and added per Redis call. */
const ENQUEUE_CHUNK = 1000;

/** The indexes (1-based) of the keys that do not exist: one script call instead of one EXISTS per key. */
const MISSING_KEYS_SCRIPT = `local missing = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 0 then missing[#missing + 1] = i end
end
return missing`;

/** BullMQ's lowest priority; a row's rank in its run maps onto 1…this. */
const MAX_PRIORITY = 2_097_151;

/**
 * The job priority of a row: its rank in its run (1 for the first row). Every tenant's first rows outrank every
 * tenant's later rows, so the queue serves tenants in turns (round-robin by rank) instead of first come, first served:
 * a tenant with 10 rows that arrives behind others' bursts of thousands goes next, not after them.
 */
export function priorityOf(ordinal: number): number {
  return Math.min(MAX_PRIORITY, Math.max(1, Math.floor(ordinal) + 1));
}

/** How long a job waits when its tenant has all its in-flight slots taken in this instance. */
const TENANT_FULL_DELAY_MS = 25;

/**
 * When a row that is still to be sent may next be worked on, or null when it needs nothing more. A running lease is
 * looked at again after `leaseCheckMs` at the latest: its owner may have died, and then the claim takes the row.
 */
function nextDueOf(row: RunRowRecord | undefined, now: number, leaseCheckMs: number): number | null {
  if (!row || (row.state !== 'pending' && row.state !== 'sending')) return null;
  const lease =
    row.lease_until !== null && Number(row.lease_until) >= now
      ? Math.min(Number(row.lease_until) + 1, now + leaseCheckMs)
      : 0;
  const due = row.state === 'pending' ? Number(row.next_attempt_at) : 0;
  return Math.max(due, lease, now);
}

/** Creates the BullMQ dispatcher; `start()` opens the worker and the sweeper. */
export function createBullmqDispatcher(
  o: BullmqDispatcherOptions,
): Dispatcher & { sweep(): Promise<number>; stats(): BullmqDispatcherStats } {
  const owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const log = o.logger.child({ component: 'bullmq-dispatcher' });
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
  const { intervalMs: leaseCheckMs, staleMs } = heartbeat.timing;
  // A dead instance's active jobs come back once their lock lapses; bounding it by the staleness bound means they come
  // back about when the ledger lets others take the rows. Live workers renew their locks, so long calls keep them.
  const lockMs = Math.max(2000, Math.min(30_000, o.leaseMs, staleMs));
  const sweepMs = o.sweepMs ?? Math.max(250, Math.min(2000, Math.floor(o.leaseMs / 2)));
  const bullPrefix = `${o.prefix}:bull`;
  const queue = new Queue<RowJob>(DISPATCH_QUEUE, {
    connection: o.redis,
    prefix: bullPrefix,
    // Completed and failed jobs are dropped so the sweep can enqueue the same row id again if it is still due.
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
  });
  // Tenants that this instance knows are paced or paused until a time: their jobs wait without touching the ledger.
  const blockedUntil = new Map<string, number>();
  const waves = new Map<string, number>();
  const stats: BullmqDispatcherStats = { jobs: 0, steps: 0, delayed: 0, maxInFlight: 0 };
  const tenantCap = Math.max(1, Math.min(o.tenantConcurrency ?? o.concurrency, o.concurrency));
  const inFlightOf = new Map<string, number>();
  let inFlight = 0;
  let worker: Worker<RowJob> | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;
  let sweepAgain = false;
  /** Run end checks under way, by run id (`again`: a row finished since the check read). */
  const runEndChecks = new Map<string, { again: boolean; done: Promise<void> }>();
  /** Background work stop() waits for. */
  const background = new Set<Promise<void>>();
  let running = false;
  let closed = false;

  async function delayTo(job: Job<RowJob>, token: string | undefined, atMs: number): Promise<never> {
    // BullMQ compares with the worker's wall clock; the ledger's clock decides on claim, so a job that wakes early waits again.
    stats.delayed++;
    await job.moveToDelayed(Math.max(Date.now() + 1, Date.now() + (atMs - o.clock.now())), token);
    throw new DelayedError();
  }

  /**
   * When a row of a paced tenant should wake: no earlier than `at`, and one slot interval (span / max) after the row
   * woken before it. The pacer frees slots one by one, so waking all waiting rows at the first free slot would make all
   * but one claim the row only to wait again.
   */
  function waveFor(tenant: string, at: number, now: number): number {
    const spread = o.spread;
    if (!spread) return at;
    const cursor = Math.max(waves.get(tenant) ?? 0, now);
    const t = Math.max(at, cursor);
    waves.set(tenant, t + spread.spanMs / spread.max);
    return Math.ceil(t);
  }

  async function processJob(job: Job<RowJob>, token?: string): Promise<void> {
    stats.jobs++;
    // Claiming before this instance's first heartbeat is recorded would let others take its rows.
    if (!heartbeat.registered()) await heartbeat.ready();
    const claimed = (await claimAtOnce(job.data)) ?? (await claimOrDelay(job, token));
    if (claimed) await work(job, token, claimed);
  }

  /**
   * The common case in one round trip: a job that wakes when its row is due, of a tenant neither paced nor at its
   * in-flight cap here, claims its row straight away. Anything else (not due, leased elsewhere, done) goes the long way.
   */
  async function claimAtOnce({ rowId, tenantId }: RowJob): Promise<RunRowRecord | null> {
    const now = o.clock.now();
    if (!tenantId || (blockedUntil.get(tenantId) ?? 0) > now) return null;
    if ((inFlightOf.get(tenantId) ?? 0) >= tenantCap) return null;
    return o.ledger.claimRow(rowId, owner, now, o.leaseMs, heartbeat.staleBefore(now));
  }

  /** Reads the row and claims it when it is due; otherwise delays the job (throws DelayedError) or ends it (null). */
  async function claimOrDelay(job: Job<RowJob>, token: string | undefined): Promise<RunRowRecord | null> {
    const { rowId } = job.data;
    let row = await o.ledger.getRow(rowId);
    let now = o.clock.now();
    // The lease is left to the claim: it knows whether the owner is still alive.
    let due = nextDueOf(row ? { ...row, lease_until: null } : row, now, leaseCheckMs);
    if (due === null || !row) return null;
    const blocked = blockedUntil.get(row.tenant_id) ?? 0;
    if (row.state === 'pending' && blocked > now) due = waveFor(row.tenant_id, Math.max(due, blocked), now);
    if (due > now) return delayTo(job, token, due);

    // One tenant may not take every slot of this instance: its job waits a moment and others' jobs go first.
    if ((inFlightOf.get(row.tenant_id) ?? 0) >= tenantCap) return delayTo(job, token, now + TENANT_FULL_DELAY_MS);

    const claimed = await o.ledger.claimRow(rowId, owner, now, o.leaseMs, heartbeat.staleBefore(now));
    if (!claimed) {
      // Another instance holds it, or it moved on: look again at what the ledger says.
      row = await o.ledger.getRow(rowId);
      now = o.clock.now();
      due = nextDueOf(row, now, leaseCheckMs);
      if (due === null) return null;
      return delayTo(job, token, Math.max(due, now + 1));
    }
    return claimed;
  }

  /** Runs the publish step on a claimed row, then ends its job or delays it to when the row is due again. */
  async function work(job: Job<RowJob>, token: string | undefined, claimed: RunRowRecord): Promise<void> {
    const { rowId } = job.data;
    stats.steps++;
    const tenant = claimed.tenant_id;
    inFlightOf.set(tenant, (inFlightOf.get(tenant) ?? 0) + 1);
    inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    let result: Awaited<ReturnType<PublishStep['processRow']>>;
    try {
      result = await o.step.processRow(claimed);
    } finally {
      inFlight--;
      const left = (inFlightOf.get(tenant) ?? 1) - 1;
      if (left > 0) inFlightOf.set(tenant, left);
      else inFlightOf.delete(tenant);
    }
    if (result.kind === 'finished') {
      o.onRowFinished?.(claimed.run_id, claimed.spreadsheet_id);
      void checkRunEnd(claimed.run_id);
      return;
    }
    if (result.tenantBlockedUntil)
      blockedUntil.set(
        claimed.tenant_id,
        Math.max(blockedUntil.get(claimed.tenant_id) ?? 0, result.tenantBlockedUntil),
      );
    // Only this row waits: its job goes back to delayed, other tenants' and other rows' jobs keep flowing.
    const after = await o.ledger.getRow(rowId);
    const now = o.clock.now();
    const next = nextDueOf(after, now, leaseCheckMs);
    if (next === null) return;
    const at = Math.max(next, result.retryAtMs);
    return delayTo(job, token, result.tenantBlockedUntil ? waveFor(claimed.tenant_id, at, now) : at);
  }

  /**
   * Asks whether the run of a finished row has ended, after the row's job (it does not hold a slot for the answer).
   * Checks of one run do not overlap: a row that finishes while one is under way asks again once it is done, so the
   * last row's check always reads the last result.
   */
  function checkRunEnd(runId: string): Promise<void> {
    const under = runEndChecks.get(runId);
    if (under) {
      under.again = true;
      return under.done;
    }
    const check = { again: true, done: Promise.resolve() };
    runEndChecks.set(runId, check);
    const run = (async () => {
      for (let failures = 0; check.again;) {
        check.again = false;
        try {
          if (await o.ledger.finishRunIfComplete(runId)) {
            log.info({ runId }, 'run finished');
            o.onRunFinished?.(runId);
          }
        } catch (err) {
          // The sweep asks again for a run whose rows are all done, but not before its next pass: retry a few times.
          log.error({ runId, err: { message: (err as Error)?.message } }, 'run end check failed');
          if (++failures < 5) {
            check.again = true;
            await new Promise((r) => setTimeout(r, 200 * failures));
          }
        }
      }
    })().finally(() => runEndChecks.delete(runId));
    check.done = run.catch(() => undefined);
    track(run);
    return check.done;
  }

  /** Adds jobs for the rows that have none (a job's id is its row's), in chunks; returns how many it added. */
  async function enqueueMissing(rows: RowToEnqueue[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < rows.length; i += ENQUEUE_CHUNK) {
      const chunk = rows.slice(i, i + ENQUEUE_CHUNK);
      // BullMQ refuses a job whose id exists, but only after its script ran and logged a 'duplicated' event: a sweep
      // that re-added every row it read made thousands of those a second across instances, for nothing.
      const missing = (await o.redis.eval(
        MISSING_KEYS_SCRIPT,
        chunk.length,
        ...chunk.map((r) => queue.toKey(jobIdOf(r.id))),
      )) as number[];
      if (missing.length === 0) continue;
      const now = o.clock.now();
      await queue.addBulk(
        missing.map((index) => {
          const r = chunk[index - 1]!;
          // A sending row without a job lost its worker: the claim decides at once whether its owner is still alive.
          const at = r.state === 'pending' ? Number(r.next_attempt_at) : now;
          return {
            name: 'row',
            data: { rowId: r.id, tenantId: r.tenant_id },
            opts: { jobId: jobIdOf(r.id), delay: Math.max(0, at - now), priority: priorityOf(Number(r.ordinal)) },
          };
        }),
      );
      added += missing.length;
    }
    return added;
  }

  /**
   * Enqueues the rows that lost their job (a crash between commit and enqueue, a job that failed): each tenant's first
   * rows, so every tenant is looked at in each pass however large the others' backlogs, and rows deeper in a backlog
   * once the rows before them are done. Rows that have a job keep it. Returns the number of jobs added.
   */
  async function sweepOnce(): Promise<number> {
    const rows = await o.ledger.rowsToSweep({ total: SWEEP_BATCH, perTenantAtLeast: SWEEP_MIN_PER_TENANT });
    const added = rows.length === 0 ? 0 : await enqueueMissing(rows);
    // A run whose last row's end check was lost (a crash after the job, checks that kept failing) has no job left to
    // ask again: without this it would stay running for ever, keeping its sheet lock and sealed key.
    const unended = await o.ledger.activeRunsWithNothingToSend(SWEEP_BATCH);
    await Promise.all(unended.map(checkRunEnd));
    return added;
  }

  /** Runs background work (an enqueue, a run's end check); stop() waits for what is under way. */
  function track(p: Promise<unknown>): void {
    const tracked: Promise<void> = p.then(
      () => undefined,
      (err: unknown) => log.error({ err: { message: (err as Error)?.message } }, 'dispatch background work failed'),
    );
    background.add(tracked);
    void tracked.finally(() => background.delete(tracked));
  }

  /** Enqueues a committed run's rows, all of them at once (the sweep only finds rows that lost their job). */
  async function enqueueRun(runId: string): Promise<number> {
    return enqueueMissing(await o.ledger.rowsToSendOfRun(runId));
  }

  function sweep(): Promise<number> {
    if (sweeping) {
      sweepAgain = true;
      return sweeping;
    }
    sweeping = sweepOnce()
      .catch((err: unknown) => {
        log.error({ err: { message: (err as Error)?.message } }, 'dispatch sweep failed');
        return 0;
      })
      .finally(() => {
        sweeping = undefined;
        if (sweepAgain && running) {
          sweepAgain = false;
          void sweep();
        }
      });
    return sweeping;
  }

  function scheduleSweep() {
    if (!running) return;
    sweepTimer = setTimeout(() => {
      void sweep().finally(scheduleSweep);
    }, sweepMs);
  }

  return {
    start() {
      if (running) return;
      running = true;
      worker = new Worker<RowJob>(DISPATCH_QUEUE, processJob, {
        connection: o.redis,
        prefix: bullPrefix,
        concurrency: o.concurrency,
        // A dead instance's jobs come back after the lock lapses; the ledger lease decides who may act on the row.
        lockDuration: lockMs,
        stalledInterval: lockMs,
        maxStalledCount: 1000,
      });
      worker.on('error', (err) => log.error({ err: { message: err?.message } }, 'dispatch worker error'));
      worker.on('failed', (job, err) =>
        log.warn(
          { rowId: job?.data.rowId, err: { message: err?.message } },
          'dispatch job failed; the sweep will retry it',
        ),
      );
      heartbeat.start();
      log.info({ owner }, 'bullmq dispatcher started');
      // Rows committed before a crash, or left sending by a dead instance, get their jobs back right away.
      void sweep();
      scheduleSweep();
    },
    async stop() {
      running = false;
      closed = true;
      if (sweepTimer) clearTimeout(sweepTimer);
      await sweeping;
      // Waits for jobs in progress, so their calls finish and are recorded, then for the enqueues and run end checks.
      await worker?.close();
      while (background.size > 0) await Promise.all([...background]);
      await queue.close();
      // Only now: the leases of jobs that were in progress stayed protected until their results were recorded.
      await heartbeat.stop();
      log.info('bullmq dispatcher stopped');
    },
    kick(runId?: string) {
      if (closed) return;
      // A committed run's rows get their jobs at once, all of them; without a started worker too (another instance's
      // workers take them).
      if (runId) track(enqueueRun(runId));
      else if (running) void sweep();
      else track(sweepOnce());
    },
    sweep,
    stats: () => ({ ...stats }),
  };
}
