/**
 * The embedded dispatcher: a poll loop in this process that claims due rows with leases, asks each tenant's pacer
 * in round-robin so one tenant's backlog never blocks another, and runs the publish step with bounded concurrency.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Dispatcher } from './dispatcher';
import { createInstanceHeartbeat } from './dispatcher-heartbeat';
import type { RunLedger } from '../ledger/run-ledger';
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
  /** DISPATCH_CONCURRENCY */
  concurrency: number;
  /** Called after a row finished (the run may have ended). */
  onRowFinished?: (runId: string) => void;
  /** Called once when a run ended because its last row finished (the runs tab records it). */
  onRunFinished?: (runId: string) => void;
}

/** Creates the in-process dispatcher. */
export function createEmbeddedDispatcher(o: EmbeddedDispatcherOptions): Dispatcher & { idle(): boolean } {
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
  const blockedUntil = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let rotation = 0;
  let running = false;
  let ticking = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  function schedule(ms: number) {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void tick(), Math.max(0, ms));
  }

  async function runOne(runId: string, rowId: string, tenant: string) {
    const row = await o.ledger.getRow(rowId);
    if (!row) return;
    const result = await o.step.processRow(row);
    if (result.kind === 'deferred' && result.tenantBlockedUntil) blockedUntil.set(tenant, result.tenantBlockedUntil);
    if (result.kind === 'finished') {
      if (await o.ledger.finishRunIfComplete(runId)) {
        log.info({ runId }, 'run finished');
        o.onRunFinished?.(runId);
      }
      o.onRowFinished?.(runId);
    }
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
      let progress = heartbeat.registered();
      while (running && progress && inFlight.size < o.concurrency) {
        progress = false;
        const now = o.clock.now();
        const tenants = (await o.ledger.dueTenants(now, heartbeat.staleBefore(now))).filter(
          (t) => (blockedUntil.get(t) ?? 0) <= now,
        );
        if (tenants.length === 0) break;
        rotation = (rotation + 1) % tenants.length;
        const order = [...tenants.slice(rotation), ...tenants.slice(0, rotation)];
        for (const tenant of order) {
          if (!running || inFlight.size >= o.concurrency) break;
          const at = o.clock.now();
          const row = await o.ledger.claimNext(tenant, owner, at, o.leaseMs, heartbeat.staleBefore(at));
          if (!row) continue;
          progress = true;
          const p = runOne(row.run_id, row.id, tenant)
            .catch((err) => log.error({ err: { message: (err as Error)?.message }, rowId: row.id }, 'dispatch failed'))
            .finally(() => {
              inFlight.delete(p);
              kick();
            });
          inFlight.add(p);
        }
      }
    } catch (err) {
      log.error({ err: { message: (err as Error)?.message } }, 'dispatcher tick failed');
    } finally {
      ticking = false;
      if (again) {
        again = false;
        schedule(0);
      } else schedule(o.pollMs);
    }
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
      log.info({ owner }, 'dispatcher started');
      heartbeat.start();
      void heartbeat.ready().then(() => kick());
      schedule(0);
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      while (ticking) await new Promise((r) => setTimeout(r, 5));
      await Promise.allSettled([...inFlight]);
      // Only now: the leases of calls that were in flight stayed protected until their results were recorded.
      await heartbeat.stop();
      log.info('dispatcher stopped');
    },
    kick,
    idle: () => inFlight.size === 0 && !ticking,
  };
}
