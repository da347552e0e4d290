/**
 * What a scale-out dispatcher's sweep and run enqueue read from the ledger, on both dialects: the sweep looks at each
 * tenant's first rows (so a tenant behind others' large backlogs is in every pass), and a committed run's rows come
 * all at once.
 */
import { ManualClock } from '../../src/clock';
import { ledgerPerTest, newRunOf, type LedgerDialect } from './ledger-fixtures';

describe.each<LedgerDialect>(['sqlite', 'postgres'])('rows to sweep (%s)', (dialect) => {
  const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
  const opened = ledgerPerTest(dialect, clock);

  it('when one tenant has a backlog larger than the sweep, then every tenant still gets its first rows looked at, in due and sheet order', async () => {
    const { ledger } = opened();
    const big = await ledger.createRun(newRunOf({ tenantId: 'tnt_big', spreadsheetId: 'sheet-big' }, 60));
    clock.advance(1000);
    const late = await ledger.createRun(newRunOf({ tenantId: 'tnt_late', spreadsheetId: 'sheet-late' }, 3));

    const rows = await ledger.rowsToSweep({ total: 20, perTenantAtLeast: 4 });

    // Two tenants share 20: the first 10 of the backlog, then the late tenant's 3 (due a second later).
    const bigRows = rows.filter((r) => r.tenant_id === 'tnt_big');
    const lateRows = rows.filter((r) => r.tenant_id === 'tnt_late');
    expect(bigRows.map((r) => Number(r.ordinal))).toEqual([...Array(10).keys()]);
    expect(lateRows.map((r) => Number(r.ordinal))).toEqual([0, 1, 2]);
    expect(new Set(bigRows.map((r) => r.id)).size).toBe(10);
    expect((await ledger.rowsToSendOfRun(late.runId)).map((r) => r.id).sort()).toEqual(
      lateRows.map((r) => r.id).sort(),
    );
    expect(await ledger.rowsToSendOfRun(big.runId)).toHaveLength(60);
  });

  it('when many tenants share the sweep, then each gets at least its minimum share', async () => {
    const { ledger } = opened();
    for (let t = 0; t < 5; t++)
      await ledger.createRun(newRunOf({ tenantId: `tnt_${t}`, spreadsheetId: `sheet-${t}` }, 10));

    const rows = await ledger.rowsToSweep({ total: 10, perTenantAtLeast: 3 });

    for (let t = 0; t < 5; t++) {
      expect(rows.filter((r) => r.tenant_id === `tnt_${t}`).map((r) => Number(r.ordinal))).toEqual([0, 1, 2]);
    }
  });

  it('when a row was left sending in a cancelled run, then the sweep still looks at it, and never at rows that are done', async () => {
    const { ledger } = opened();
    const run = await ledger.createRun(newRunOf({ tenantId: 'tnt_a' }, 3));
    const [first, second] = await ledger.rowsToSendOfRun(run.runId);
    const claimed = await ledger.claimRow(first!.id, 'gone-owner', clock.now(), 60_000, clock.now());
    expect(await ledger.beginAttempt(claimed!, { kind: 'create', idempotencyKey: 'k-1', body: '{}' })).not.toBeNull();
    await ledger.setResult(second!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: 'pst_1' });
    expect(await ledger.cancelRun(run.runId)).toBe(true);

    const rows = await ledger.rowsToSweep({ total: 10, perTenantAtLeast: 1 });

    expect(rows.map((r) => [r.id, r.state])).toEqual([[first!.id, 'sending']]);
    expect((await ledger.rowsToSendOfRun(run.runId)).map((r) => r.id)).toEqual([first!.id]);
  });
});
