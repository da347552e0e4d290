/**
 * RunLedger.activeTenants on both dialects: the tenants a dispatcher polls, each with its count of rows to send now
 * (pending and due, leased or not, plus sending), and no count for the tenants it asks to skip.
 */
import { ManualClock } from '../../src/clock';
import { newRunOf, ledgerPerTest } from '../ledger/ledger-fixtures';

jest.setTimeout(30_000);

const run = (tenantId: string, spreadsheetId: string, n: number) => newRunOf({ tenantId, spreadsheetId }, n);

describe.each(['sqlite', 'postgres'] as const)('RunLedger.activeTenants on %s', (dialect) => {
  const clock = new ManualClock(1_000_000);
  const opened = ledgerPerTest(dialect, clock);

  it('when tenants have rows pending, leased, sending, waiting for a retry and finished, then each counts the rows to send now', async () => {
    const { ledger } = opened();
    await ledger.createRun(run('tnt_a', 'sheet-a', 6));
    await ledger.createRun(run('tnt_b', 'sheet-b', 3));
    const now = clock.now();
    // tnt_a: two claimed (leased, still to send), one of them sending; one waiting for a retry; one finished.
    const [claimed, sending] = await ledger.claimBatch('tnt_a', 'w1', now, 10_000, 2);
    expect(claimed && sending).toBeTruthy();
    expect(await ledger.beginAttempt(sending!, { kind: 'create', idempotencyKey: 'key-1', body: '{}' })).not.toBeNull();
    const [later] = await ledger.claimBatch('tnt_a', 'w1', now, 10_000, 1);
    await ledger.release(later!, now + 60_000, { state: 'pending', failuresDelta: 1 });
    const [done] = await ledger.claimBatch('tnt_a', 'w1', now, 10_000, 1);
    await ledger.setResult(done!.id, { state: 'created', postId: 'pst_1', sheetStatus: 'SCHEDULED', error: '' });

    const byTenant = (rows: Array<{ tenantId: string; due?: number }>) =>
      Object.fromEntries(rows.map((r) => [r.tenantId, r.due]));
    // 6 rows: 2 never claimed, 1 leased, 1 sending count; the retry (not due) and the created row do not.
    expect(byTenant(await ledger.activeTenants(now))).toEqual({ tnt_a: 4, tnt_b: 3 });
    // Once the retry is due, it counts.
    expect(byTenant(await ledger.activeTenants(now + 60_000))).toEqual({ tnt_a: 5, tnt_b: 3 });
    // Skipped tenants are listed without a count.
    const skipped = await ledger.activeTenants(now, new Set(['tnt_b']));
    expect(skipped).toEqual(expect.arrayContaining([{ tenantId: 'tnt_a', due: 4 }, { tenantId: 'tnt_b' }]));
    expect(skipped).toHaveLength(2);
  });
});
