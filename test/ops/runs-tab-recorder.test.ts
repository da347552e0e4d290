/**
 * The "Postato runs" tab recorder against the Sheets fake and a real ledger (SQLite, PostgreSQL), when Sheets fails: the run's tab
 * row is handed back on any failure (not only a stop) and recorded once by the next start, a tab left without its
 * header by a half-done try gets it, a sheet that always fails is given up after a few tries, and a take a crash left
 * is taken again once it is old.
 */
import { ManualClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { createRunsTabRecorder } from '../../src/ops/runs-tab-recorder';
import { RUN_TAB_MAX_TRIES, RUN_TAB_RECLAIM_MS } from '../../src/ledger/run-ledger';
import { RUNS_TAB_HEADER, RUNS_TAB_TITLE } from '../../src/sheets/runs-tab-writer';
import { type LedgerDialect, ledgerPerTest, newRunOf } from '../ledger/ledger-fixtures';
import { postsCsv, startSheetsKit, type SheetsKit } from '../sheets/sheets-test-kit';

const SS = 'ss-runs-tab';
const ALL_WRITES_FAIL = { share429: 0, share5xx: 1, applyTo: 'writes' as const };
const NO_FAULTS = { share429: 0, share5xx: 0 };

describe.each<LedgerDialect>(['sqlite', 'postgres'])('runs-tab recorder when Sheets fails (%s ledger)', (dialect) => {
  const clock = new ManualClock(Date.now());
  const opened = ledgerPerTest(dialect, clock);
  let kit: SheetsKit;

  beforeEach(async () => {
    kit = await startSheetsKit({ quotaPerMinute: 100_000 });
    kit.fake.loadCsv(SS, 'Posts', postsCsv(1));
  });
  afterEach(async () => {
    await kit.fake.close();
  });

  /** A recorder as one start of the service has it (retries kept short). */
  const recorder = (o: { recheckEveryMs?: number } = {}) => {
    const client = kit.client({ retry: { attempts: 2 } });
    const ledger = opened().ledger;
    return createRunsTabRecorder({ ledger, sheetsFor: () => client, clock, logger: silentLogger, ...o });
  };
  /** A run of SS whose one row was created, ended. */
  const endedRun = async () => {
    const { ledger } = opened();
    const { runId } = await ledger.createRun(newRunOf({ spreadsheetId: SS }, 1));
    const row = await ledger.claimNext('tnt_a', 'w', clock.now(), 60_000);
    await ledger.setResult(row!.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: 'pst_1' });
    expect(await ledger.finishRunIfComplete(runId)).toBe(true);
    return runId;
  };
  const tab = () => kit.fake.getValues(SS, RUNS_TAB_TITLE).map((r) => r[0]);
  /** Records what the ledger still has due, as a new start does. */
  const nextStart = async () => {
    const r = recorder();
    await r.resume();
    await r.idle();
  };

  it('when every write gets a 503, then the run stays due and the next start records it once', async () => {
    const runId = await endedRun();
    kit.fake.update({ faults: ALL_WRITES_FAIL });
    const first = recorder();
    first.record(runId);
    await first.idle();
    expect(await opened().ledger.runsTabDue(10)).toEqual([runId]);

    kit.fake.update({ faults: NO_FAULTS });
    await nextStart();
    expect(tab()).toEqual([RUNS_TAB_HEADER[0], runId]);
    await nextStart();
    expect(tab()).toEqual([RUNS_TAB_HEADER[0], runId]);
    expect(await opened().ledger.runsTabDue(10)).toEqual([]);
  });

  it('when the tab was added but the append failed, then the next start writes the header above the row', async () => {
    const runId = await endedRun();
    // Calls: metadata (0), addSheet (1), then the append, which fails on every try.
    kit.fake.beforeEachCall((n) => {
      if (n === 2) kit.fake.update({ faults: ALL_WRITES_FAIL });
    });
    const first = recorder();
    first.record(runId);
    await first.idle();
    expect(kit.fake.getValues(SS, RUNS_TAB_TITLE)).toEqual([]);

    kit.fake.beforeEachCall(null);
    kit.fake.update({ faults: NO_FAULTS });
    await nextStart();
    expect(kit.fake.getValues(SS, RUNS_TAB_TITLE)[0]).toEqual([...RUNS_TAB_HEADER]);
    expect(tab()).toEqual([RUNS_TAB_HEADER[0], runId]);
  });

  it('when the sheet fails on every try, then the run is given up after a few tries', async () => {
    const runId = await endedRun();
    kit.fake.update({ faults: ALL_WRITES_FAIL });
    for (let i = 1; i < RUN_TAB_MAX_TRIES; i++) {
      await nextStart();
      expect(await opened().ledger.runsTabDue(10)).toEqual([runId]);
    }
    await nextStart();
    expect(await opened().ledger.runsTabDue(10)).toEqual([]);
  });

  it('when a process took the row and died before appending it, then a start after the reclaim age records it', async () => {
    const runId = await endedRun();
    expect(await opened().ledger.takeRunTabDue(runId)).toBe(clock.now());
    await nextStart();
    expect(() => kit.fake.getValues(SS, RUNS_TAB_TITLE)).toThrow(/No sheet/);

    clock.advance(RUN_TAB_RECLAIM_MS + 1);
    await nextStart();
    expect(tab()).toEqual([RUNS_TAB_HEADER[0], runId]);
  });

  it('when the first append gets a 503 and the next succeeds, then the periodic look records it once without a restart', async () => {
    const runId = await endedRun();
    kit.fake.update({ faults: ALL_WRITES_FAIL });
    const r = recorder({ recheckEveryMs: 0 });
    await r.resume();
    r.record(runId);
    await r.idle();
    expect(await opened().ledger.runsTabDue(10)).toEqual([runId]);

    kit.fake.update({ faults: NO_FAULTS });
    await r.recheck();
    await r.idle();
    expect(tab()).toEqual([RUNS_TAB_HEADER[0], runId]);
    await r.recheck();
    await r.idle();
    expect(tab()).toEqual([RUNS_TAB_HEADER[0], runId]);
    expect(await opened().ledger.runsTabDue(10)).toEqual([]);
    expect(await r.close()).toEqual([]);
  });

  it('when the sheet always fails, then the periodic looks give the run up after a few tries', async () => {
    const runId = await endedRun();
    kit.fake.update({ faults: ALL_WRITES_FAIL });
    const r = recorder({ recheckEveryMs: 0 });
    r.record(runId);
    await r.idle();
    for (let i = 1; i < RUN_TAB_MAX_TRIES; i++) {
      await r.recheck();
      await r.idle();
    }
    expect(await opened().ledger.runsTabDue(10)).toEqual([]);
    // Given up: a later look does not try it again, even once the sheet works.
    kit.fake.update({ faults: NO_FAULTS });
    await r.recheck();
    await r.idle();
    expect(() => kit.fake.getValues(SS, RUNS_TAB_TITLE)).toThrow(/No sheet/);
    await r.close();
  });

  it('when resumed with a recheck interval, then its timer records a handed-back run, and close stops it', async () => {
    const runId = await endedRun();
    kit.fake.update({ faults: ALL_WRITES_FAIL });
    const r = recorder({ recheckEveryMs: 5 });
    r.record(runId);
    await r.idle();
    kit.fake.update({ faults: NO_FAULTS });
    await r.resume();
    // The timer's passes queue the run again; wait for the outcome, not for a time.
    while ((await opened().ledger.runsTabDue(10)).length > 0) await new Promise((done) => setTimeout(done, 5));
    await r.idle();
    expect(tab()).toEqual([RUNS_TAB_HEADER[0], runId]);
    await r.close();
  });

  it('when a run is still active, then its tab row cannot be taken', async () => {
    const { runId } = await opened().ledger.createRun(newRunOf({ spreadsheetId: SS }, 1));
    expect(await opened().ledger.takeRunTabDue(runId)).toBeUndefined();
  });
});
