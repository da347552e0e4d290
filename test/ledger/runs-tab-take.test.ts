/**
 * The "Postato runs" tab take is owned by the try that made it: once another start reclaimed a take that was stuck
 * past the reclaim age, the first try's finish and hand-back change nothing, so the run is never due again after the
 * reclaiming try's finish (a late hand-back used to make it due a third time).
 */
import { ManualClock } from '../../src/clock';
import { RUN_TAB_RECLAIM_MS } from '../../src/ledger/run-ledger';
import { type LedgerDialect, ledgerPerTest, newRunOf } from './ledger-fixtures';

describe.each<LedgerDialect>(['sqlite', 'postgres'])('runs-tab take ownership (%s ledger)', (dialect) => {
  const clock = new ManualClock(Date.now());
  const opened = ledgerPerTest(dialect, clock);

  /** A run of one created row, ended. */
  const endedRun = async () => {
    const { ledger } = opened();
    const { runId } = await ledger.createRun(newRunOf({}, 1));
    const row = await ledger.claimNext('tnt_a', 'w', clock.now(), 60_000);
    await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: 'pst_1' });
    expect(await ledger.finishRunIfComplete(runId)).toBe(true);
    return runId;
  };
  /** Take A, then B reclaims it once it is past the reclaim age. */
  const reclaimed = async (runId: string) => {
    const { ledger } = opened();
    const a = await ledger.takeRunTabDue(runId);
    expect(a).toBeDefined();
    clock.advance(RUN_TAB_RECLAIM_MS + 1);
    const b = await ledger.takeRunTabDue(runId);
    expect(b).toBeDefined();
    expect(b).not.toBe(a);
    return { a: a!, b: b! };
  };

  it("when a stuck take was reclaimed, then the first try's hand-back is a no-op and the run is never due again", async () => {
    const { ledger } = opened();
    const runId = await endedRun();
    const { a, b } = await reclaimed(runId);
    expect(await ledger.returnRunTabDue(runId, a)).toBe(false);
    expect(await ledger.returnRunTabDue(runId, a, { countTry: false })).toBe(false);
    expect(await ledger.runsTabDue(10)).toEqual([]);
    expect(await ledger.finishRunTab(runId, b)).toBe(true);
    clock.advance(RUN_TAB_RECLAIM_MS + 1);
    expect(await ledger.runsTabDue(10)).toEqual([]);
    expect(await ledger.takeRunTabDue(runId)).toBeUndefined();
  });

  it("when a stuck take was reclaimed, then the first try's finish is a no-op and the second's works", async () => {
    const { ledger } = opened();
    const runId = await endedRun();
    const { a, b } = await reclaimed(runId);
    expect(await ledger.finishRunTab(runId, a)).toBe(false);
    // B still holds the take: it is not released by A's finish (a crash of B would leave it to reclaim).
    clock.advance(RUN_TAB_RECLAIM_MS + 1);
    expect(await ledger.runsTabDue(10)).toEqual([runId]);
    clock.advance(-(RUN_TAB_RECLAIM_MS + 1));
    expect(await ledger.finishRunTab(runId, b)).toBe(true);
    expect(await ledger.returnRunTabDue(runId, a)).toBe(false);
    clock.advance(RUN_TAB_RECLAIM_MS + 1);
    expect(await ledger.runsTabDue(10)).toEqual([]);
  });

  it('when the take is still held, then its hand-back makes the run due once more', async () => {
    const { ledger } = opened();
    const runId = await endedRun();
    const a = await ledger.takeRunTabDue(runId);
    expect(await ledger.returnRunTabDue(runId, a!)).toBe(true);
    expect(await ledger.runsTabDue(10)).toEqual([runId]);
  });
});
