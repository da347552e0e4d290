/**
 * Gauges read from the ledger at scrape time: rows waiting to be sent per tenant (tenant ids are already hashes of
 * the API key) and the write-back lag, the age of the oldest result not yet written to its sheet.
 */
import type { RunLedger } from '../ledger/run-ledger';
import type { Metrics } from '../metrics';

/** Sets rowsWaiting and writeBackLagSeconds from the ledger; called before each /metrics scrape. */
export async function refreshLedgerGauges(metrics: Metrics, ledger: RunLedger, nowMs: number): Promise<void> {
  const { waitingByTenant, oldestUnwrittenMs } = await ledger.gauges();
  // Reset first, so a tenant whose queue emptied shows no stale count.
  metrics.rowsWaiting.reset();
  for (const w of waitingByTenant) metrics.rowsWaiting.set({ tenant: w.tenant }, w.rows);
  metrics.writeBackLagSeconds.set(oldestUnwrittenMs === null ? 0 : Math.max(0, (nowMs - oldestUnwrittenMs) / 1000));
}
