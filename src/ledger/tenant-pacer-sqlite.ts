/**
 * The embedded tier's TenantPacer: the sliding log kept in the service's SQLite file, so every process that opens the
 * file shares one limit per tenant. Each decision runs in a BEGIN IMMEDIATE transaction, which takes the write lock
 * before reading, so two processes can never both see the last free slot. On the ledger's own connection every
 * decision waits until no ledger transaction is open: one it joined would take its reservation along on rollback.
 */
import type { Database } from 'better-sqlite3';
import type { Clock } from '../clock';
import {
  blockedBy,
  effectiveLimit,
  type AcquireResult,
  type SlidingLogDecision,
  type PacerLimits,
  type PaceKind,
  type TenantPacer,
} from '../pacing/tenant-pacer';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pacer_sends (
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL,
  sent_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pacer_sends_lane ON pacer_sends (tenant, kind, sent_at);
CREATE TABLE IF NOT EXISTS pacer_pauses (
  tenant TEXT NOT NULL,
  kind TEXT NOT NULL,
  paused_until INTEGER NOT NULL,
  PRIMARY KEY (tenant, kind)
);
`;

/** A pacer whose state lives in SQLite (own tables, created if missing); atomic across processes. */
export function createSqlitePacer(opts: {
  db: Database;
  limits: PacerLimits;
  clock: Clock;
  /** When `db` is shared with the ledger: runs a statement only while no ledger transaction is open on it. */
  outsideTransactions?: <T>(work: () => T) => Promise<T>;
}): TenantPacer {
  const { db, clock } = opts;
  const alone = opts.outsideTransactions ?? (async <T>(work: () => T) => work());
  db.exec(SCHEMA);
  const rules = { create: effectiveLimit(opts.limits, 'create'), write: effectiveLimit(opts.limits, 'write') };
  const maxFlightMs = opts.limits.maxFlightMs ?? 0;

  const trim = db.prepare<[string, string, number]>(
    'DELETE FROM pacer_sends WHERE tenant = ? AND kind = ? AND sent_at <= ?',
  );
  // The sliding log is read as a count and one blocker, never as rows: a tenant at its limit has L' of them.
  const countLive = db
    .prepare<[string, string, number], number>(
      'SELECT COUNT(*) FROM pacer_sends WHERE tenant = ? AND kind = ? AND sent_at > ?',
    )
    .pluck();
  const nthLive = db
    .prepare<[string, string, number, number], number>(
      'SELECT sent_at FROM pacer_sends WHERE tenant = ? AND kind = ? AND sent_at > ? ORDER BY sent_at ASC LIMIT 1 OFFSET ?',
    )
    .pluck();
  const insert = db.prepare<[string, string, number]>(
    'INSERT INTO pacer_sends (tenant, kind, sent_at) VALUES (?, ?, ?)',
  );
  const restamp = db.prepare<[number, number, string, string]>(
    'UPDATE pacer_sends SET sent_at = ? WHERE rowid = ? AND tenant = ? AND kind = ?',
  );
  const getPause = db.prepare<[string, string], { paused_until: number }>(
    'SELECT paused_until FROM pacer_pauses WHERE tenant = ? AND kind = ?',
  );
  const upsertPause = db.prepare<[string, string, number]>(
    `INSERT INTO pacer_pauses (tenant, kind, paused_until) VALUES (?, ?, ?)
     ON CONFLICT (tenant, kind) DO UPDATE SET paused_until = MAX(paused_until, excluded.paused_until)`,
  );

  const decide = (tenant: string, kind: PaceKind, now: number, trimFirst: boolean): SlidingLogDecision => {
    const paused = getPause.get(tenant, kind)?.paused_until ?? 0;
    if (paused > now) return { ok: false, retryAtMs: paused };
    const rule = rules[kind];
    const cutoff = now - rule.spanMs;
    if (trimFirst) trim.run(tenant, kind, cutoff);
    const live = countLive.get(tenant, kind, cutoff) ?? 0;
    if (live < rule.max) return { ok: true };
    return blockedBy(nthLive.get(tenant, kind, cutoff, live - rule.max)!, now, rule);
  };

  // A slot is stamped ahead while its call is in flight; `sent` moves it to the answer time (see tenant-pacer.ts).
  const reserve = (tenant: string, kind: PaceKind, now: number): AcquireResult => {
    const result = decide(tenant, kind, now, true);
    if (!result.ok) return result;
    return { ok: true, slot: String(insert.run(tenant, kind, now + maxFlightMs).lastInsertRowid) };
  };

  // Decisions and restamps asked for in the same turn of the event loop (hundreds of calls start and end together)
  // share one BEGIN IMMEDIATE transaction, one commit instead of one each; each still runs under the write lock, in
  // order, and its caller resolves only once it is committed. If the group fails, each runs again on its own.
  type Grouped = { work: () => unknown; resolve(value: unknown): void; reject(err: unknown): void };
  let group: Grouped[] = [];
  const runGroup = db.transaction((items: Grouped[]) => items.map((g) => g.work()));
  const runOne = db.transaction((g: Grouped) => g.work());
  const flush = () => {
    const items = group;
    group = [];
    void alone(() => runGroup.immediate(items)).then(
      (results) => items.forEach((g, i) => g.resolve(results[i])),
      () =>
        items.forEach((g) =>
          alone(() => runOne.immediate(g)).then(
            (value) => g.resolve(value),
            (err: unknown) => g.reject(err),
          ),
        ),
    );
  };
  const grouped = <T>(work: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      group.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (group.length === 1) setImmediate(flush);
    });

  // The time is read inside the transaction, after the write lock is held: a time read before waiting for the lock
  // could be older than sends another process recorded meanwhile, and the log would then undercount the window.
  const acquire = (tenant: string, kind: PaceKind) => reserve(tenant, kind, Math.floor(clock.now()));
  const peekTx = db.transaction((tenant: string, kind: PaceKind, now: number) => decide(tenant, kind, now, false));

  return {
    tryAcquire(tenant, kind) {
      return grouped(() => acquire(tenant, kind));
    },
    async sent(tenant, kind, slot, atMs) {
      await grouped(() => restamp.run(Math.ceil(atMs), Number(slot), tenant, kind));
    },
    async pause(tenant, kind, untilMs) {
      await alone(() => upsertPause.run(tenant, kind, Math.ceil(untilMs)));
    },
    nextFreeAt(tenant, kind) {
      return alone(() => {
        const now = Math.floor(clock.now());
        const result = peekTx.deferred(tenant, kind, now);
        return result.ok ? now : result.retryAtMs;
      });
    },
    async close() {
      // The database handle belongs to the caller; nothing of ours stays open.
    },
  };
}
