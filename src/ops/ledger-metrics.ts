/**
 * Gauges read from the ledger at scrape time: rows waiting to be sent per tenant (tenant ids are already hashes of
 * the API key) and the write-back lag, the age of the oldest result not yet written to its sheet.
 */
import type { RunLedger } from '../runs/run-ledger';
import type { Metrics } from '../metrics';

/** Sets rowsWaiting and writeBackLagSeconds from the ledger; called before each /metrics scrape. */
export async function refreshLedgerGauges(metrics: Metrics, ledger: RunLedger, nowMs: number): Promise<void> {
  const [waiting, oldest] = await Promise.all([
    ledger.db
      .selectFrom('run_rows')
      .select((eb) => ['tenant_id', eb.fn.countAll<number>().as('n')])
      .where('state', 'in', ['pending', 'sending'])
      .groupBy('tenant_id')
      .execute(),
    ledger.db
      .selectFrom('run_rows')
      .select((eb) => eb.fn.min<number>('updated_at').as('oldest'))
      .whereRef('version', '>', 'written_version')
      .where('removed', '=', 0)
      .executeTakeFirst(),
  ]);
  // Reset first, so a tenant whose queue emptied shows no stale count.
  metrics.rowsWaiting.reset();
  for (const w of waiting) metrics.rowsWaiting.set({ tenant: w.tenant_id }, Number(w.n));
  const oldestMs = oldest?.oldest === null || oldest?.oldest === undefined ? null : Number(oldest.oldest);
  metrics.writeBackLagSeconds.set(oldestMs === null ? 0 : Math.max(0, (nowMs - oldestMs) / 1000));
}
