/**
 * Records each ended run in its spreadsheet's "Postato runs" tab. Runs are recorded one at a time, after the
 * write-back has flushed that spreadsheet, so the report counts rows found removed. A failure is logged, never thrown:
 * the history tab must not hold up publishing. The ledger marks the runs still due (runs.tab_due): each is taken once,
 * any failure hands it back (a few tries at most), a take a crash left is taken again after a while, and the runs
 * still due are looked for at start (resume) and again every few minutes, so a row handed back after a Sheets failure
 * is recorded without waiting for a restart.
 */
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { RunLedger } from '../ledger/run-ledger';
import { buildRunReport } from '../runs/run-report';
import type { SheetsClient } from '../sheets/sheets-client';
import { appendRunToTab } from '../sheets/runs-tab-writer';
import { hasGoogleSheet } from '../plan/campaign-source';
import { BudgetClosedError } from '../sheets/write-budget';

export interface RunsTabRecorderDeps {
  ledger: RunLedger;
  sheetsFor: (spreadsheetId: string) => SheetsClient;
  clock: Clock;
  logger: Logger;
  /** Flushes the write-back of a spreadsheet before the report is read (optional). */
  flush?: (spreadsheetId: string) => Promise<unknown>;
  /** How often, after `resume()`, the ledger is looked at again for runs still due (default 3 min; 0: never). */
  recheckEveryMs?: number;
}

/** Default time between two looks for runs still due: a handed-back row waits about this long. */
export const RUNS_TAB_RECHECK_MS = 3 * 60_000;

/** Queues ended runs for the tab; `idle()` resolves when every queued run has been handled. */
export interface RunsTabRecorder {
  record(runId: string): void;
  idle(): Promise<void>;
  /**
   * Stops recording (shutdown): runs queued but not started are not recorded, nor is one whose requests would have to
   * wait for the Sheets budget. Resolves, once the run in progress is done, with the ids of the runs left out.
   */
  close(): Promise<string[]>;
  /**
   * Queues the ended runs the ledger still marks as due (left by a stop); call once at start. Then does the same
   * every `recheckEveryMs` (unref'd timer, stopped by `close()`).
   */
  resume(): Promise<void>;
  /** Queues the ended runs the ledger marks as due, handed-back ones included (one pass of the periodic look). */
  recheck(): Promise<void>;
}

/** Creates the recorder. */
export function createRunsTabRecorder(deps: RunsTabRecorderDeps): RunsTabRecorder {
  const log = deps.logger.child({ component: 'runs-tab' });
  let chain: Promise<void> = Promise.resolve();
  // A run ends once, but several paths may report it (last row, cancel twice): record it once per process.
  const recorded = new Set<string>();
  let closed = false;
  // Spreadsheets whose runs tab this process has written rows to, header included: their row 1 is not read again.
  const headerSeen = new Set<string>();
  const leftOut: string[] = [];
  // Runs queued and not yet handled: a look for due runs does not queue them twice.
  const queued = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  async function recordOne(runId: string): Promise<void> {
    // Taken once across restarts and instances: a run reported twice, or by two instances, gets one tab row.
    const takenAt = await deps.ledger.takeRunTabDue(runId);
    if (takenAt === undefined) return;
    try {
      await recordTaken(runId);
    } catch (err) {
      // Any failure hands the row back for the next start. A stop does not use up a try; other failures do, and
      // after a few the run is given up, so a sheet that always refuses is not tried for ever.
      const stopping = err instanceof BudgetClosedError;
      const back = await deps.ledger.returnRunTabDue(runId, takenAt, { countTry: !stopping }).catch((e: unknown) => {
        // The take stays on the run: the reclaim age makes it due again at a later start.
        log.warn({ runId, message: (e as Error)?.message }, 'could not hand the runs-tab row back');
        return true;
      });
      // Not handed back: tried too often, or another start reclaimed the take (it owns the row now).
      if (!back) log.warn({ runId }, 'gave up recording the run in the Postato runs tab');
      throw err;
    }
    await deps.ledger.finishRunTab(runId, takenAt);
  }

  async function recordTaken(runId: string): Promise<void> {
    const run = await deps.ledger.getRun(runId);
    if (!run || !hasGoogleSheet(run.spreadsheet_id)) return; // a CSV campaign has no sheet to hold the tab
    await deps.flush?.(run.spreadsheet_id);
    const report = await buildRunReport(deps.ledger, runId, { nowMs: deps.clock.now() });
    if (!report) return;
    const { createdTab } = await appendRunToTab(deps.sheetsFor(run.spreadsheet_id), report, {
      headerSeen: headerSeen.has(run.spreadsheet_id),
    });
    if (headerSeen.size > 10_000) headerSeen.clear();
    headerSeen.add(run.spreadsheet_id);
    log.info({ runId, createdTab, failed: report.failedTotal }, 'run recorded in the Postato runs tab');
  }

  function record(runId: string): void {
    if (closed) return void leftOut.push(runId);
    if (recorded.has(runId)) return;
    if (recorded.size > 10_000) recorded.clear();
    recorded.add(runId);
    enqueue(runId);
  }

  function enqueue(runId: string): void {
    if (queued.has(runId)) return;
    queued.add(runId);
    chain = chain.then(async () => {
      queued.delete(runId);
      if (closed) return void leftOut.push(runId);
      await recordOne(runId).catch((err) => {
        if (err instanceof BudgetClosedError) return void leftOut.push(runId);
        log.warn({ runId, message: (err as Error)?.message }, 'could not record the run in the Postato runs tab');
      });
    });
  }

  // A due run is queued even if this process reported it before: a failed try handed it back for another one. The
  // ledger's take keeps it to one row; its tries bound how often a sheet that always fails is tried.
  async function recheck(): Promise<void> {
    if (closed) return;
    for (const runId of await deps.ledger.runsTabDue(10_000)) {
      if (closed) return;
      recorded.add(runId);
      enqueue(runId);
    }
  }

  function startRechecks(): void {
    const every = deps.recheckEveryMs ?? RUNS_TAB_RECHECK_MS;
    if (every <= 0 || timer || closed) return;
    timer = setInterval(() => {
      recheck().catch((err: unknown) =>
        log.warn({ message: (err as Error)?.message }, 'could not look for runs still due in the Postato runs tab'),
      );
    }, every);
    timer.unref?.();
  }

  return {
    record,
    idle: () => chain,
    async resume() {
      startRechecks();
      await recheck();
    },
    recheck,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await chain;
      return [...leftOut];
    },
  };
}
