/**
 * activeRunsWithNothingToSend, on both dialects: the runs the dispatcher sweep ends because their end check was lost.
 */
import { ManualClock } from '../../src/clock';
import { type LedgerDialect, ledgerPerTest, newRunOf } from './ledger-fixtures';

describe.each<LedgerDialect>(['sqlite', 'postgres'])('active runs with nothing left to send (%s)', (dialect) => {
  const clock = new ManualClock(Date.now());
  const opened = ledgerPerTest(dialect, clock);

  it('when one active run has every row done and others still have rows or ended, then only it is listed', async () => {
    const { ledger } = opened();
    const done = await ledger.createRun(newRunOf({ tenantId: 'tnt_a' }, 1));
    await ledger.createRun(newRunOf({ tenantId: 'tnt_b' }, 1));
    const ended = await ledger.createRun(newRunOf({ tenantId: 'tnt_c' }, 1));
    for (const tenant of ['tnt_a', 'tnt_c']) {
      const row = await ledger.claimNext(tenant, 'w', clock.now(), 60_000);
      await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: `pst_${tenant}` });
    }
    await ledger.claimNext('tnt_b', 'w', clock.now(), 60_000);
    expect(await ledger.finishRunIfComplete(ended.runId)).toBe(true);

    expect(await ledger.activeRunsWithNothingToSend(10)).toEqual([done.runId]);
  });
});
