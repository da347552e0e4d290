/**
 * The operator command line: `npm run ops -- runs list|show|resync|purge`. It opens the ledger named by DATABASE_URL
 * (through loadConfig), prints JSON or a table on stdout and progress on stderr, so output can be piped.
 */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, type Config } from '../config';
import { silentLogger } from '../logger';
import { systemClock } from '../clock';
import { openLedger } from '../ledger/open-ledger';
import type { RunLedger } from '../ledger/run-ledger';
import { WriteBackFlusher } from '../sheets/write-back-flusher';
import { createSheetsClient } from '../sheets/sheets-client';
import { loadServiceAccountKey } from '../sheets/sheets-credentials';
import { SlidingWindowWriteBudget } from '../sheets/write-budget';
import { listRuns, purgeRuns, resyncRun, showRun, type Progress } from '../ops/run-admin';

/** Where the CLI writes: stdout for results, stderr for progress and errors. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number, 0 or more.`);
    return n;
  };
}

/** Prints "label done/total (pct%)" lines, at most one per 10 % step, so long operations show they move. */
export function progressPrinter(io: CliIo, label: string): Progress {
  let lastStep = -1;
  return (done, total) => {
    const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
    const step = Math.floor(pct / 10);
    if (step === lastStep && done !== total) return;
    lastStep = step;
    io.err(`${label} ${done}/${total} (${pct}%)`);
  };
}

/** Builds the commander program; every action opens the ledger from `config` and closes it when done. */
export function buildOpsProgram(
  config: Config,
  io: CliIo = processIo,
  nowMs: () => number = () => Date.now(),
): Command {
  const program = new Command('ops')
    .description('Operate postato-sheets: inspect, resync and purge runs.')
    .exitOverride();
  program.configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  async function withLedger<T>(fn: (ledger: RunLedger) => Promise<T>): Promise<T> {
    const db = await openLedger(config.DATABASE_URL, systemClock);
    try {
      return await fn(db.ledger);
    } finally {
      await db.close();
    }
  }

  const runs = program.command('runs').description('Runs recorded in the ledger.');

  runs
    .command('list')
    .description('List the newest runs.')
    .option('--limit <n>', 'how many runs', positiveInt('--limit'), 20)
    .option('--state <state>', 'only runs in this state (queued, running, done, cancelled, failed)')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { limit: number; state?: string; json?: boolean }) => {
      const list = await withLedger((l) => listRuns(l, { limit: opts.limit, state: opts.state }));
      if (opts.json) return io.out(JSON.stringify(list, null, 2));
      if (list.length === 0) return io.out('No runs.');
      io.out(['RUN', 'MODE', 'STATE', 'ROWS', 'STARTED', 'FINISHED', 'SHEET'].join('\t'));
      for (const r of list)
        io.out(
          [
            r.runId,
            r.mode,
            r.state,
            r.total,
            r.startedAt,
            r.finishedAt ?? '-',
            `${r.spreadsheetId}/${r.sheetName}`,
          ].join('\t'),
        );
    });

  runs
    .command('show <runId>')
    .description('Show the report of one run (JSON): counts, duration, failed and removed rows, warnings.')
    .action(async (runId: string) => {
      io.out(JSON.stringify(await withLedger((l) => showRun(l, runId, nowMs())), null, 2));
    });

  runs
    .command('resync <runId>')
    .description("Write every result of a run into its sheet again (needs the service account's credentials).")
    .action(async (runId: string) => {
      const serviceAccount = loadServiceAccountKey(config);
      if (!serviceAccount)
        throw new Error(
          'Resync writes to Google Sheets: set GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_APPLICATION_CREDENTIALS first.',
        );
      const budget = new SlidingWindowWriteBudget({
        limit: config.SHEETS_WRITES_PER_MINUTE,
        windowMs: 60_000,
        clock: systemClock,
      });
      // Reads are budgeted like writes: Google limits both per user and minute.
      const readBudget = new SlidingWindowWriteBudget({
        limit: config.SHEETS_READS_PER_MINUTE,
        windowMs: 60_000,
        clock: systemClock,
      });
      const sheets = createSheetsClient({
        rootUrl: config.SHEETS_API_URL,
        credentials: { serviceAccount },
        budget,
        readBudget,
      });
      const result = await withLedger(async (ledger) => {
        const store = ledger.writeBack;
        const flusher = new WriteBackFlusher({
          store,
          sheetsFor: () => sheets,
          clock: systemClock,
          logger: silentLogger,
          flushEveryMs: 60_000,
          flushRows: config.WRITEBACK_FLUSH_ROWS,
        });
        return resyncRun(ledger, store, (id) => flusher.flushNow(id), runId, progressPrinter(io, 'resync: written'));
      });
      io.out(JSON.stringify(result));
    });

  runs
    .command('purge')
    .description('Delete ended runs older than N days (active runs and the posts-by-row memory are kept).')
    .requiredOption('--older-than-days <n>', 'age in days of the runs to delete', positiveInt('--older-than-days'))
    .option('--batch-size <n>', 'runs deleted per transaction', positiveInt('--batch-size'), 200)
    .action(async (opts: { olderThanDays: number; batchSize: number }) => {
      const result = await withLedger((l) =>
        purgeRuns(
          l,
          { olderThanDays: opts.olderThanDays, nowMs: nowMs(), batchSize: Math.max(1, opts.batchSize) },
          progressPrinter(io, 'purge: deleted'),
        ),
      );
      io.out(JSON.stringify(result));
    });

  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the process exit code. */
export async function runOpsCli(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  io: CliIo = processIo,
): Promise<number> {
  try {
    await buildOpsProgram(loadConfig(env), io).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1; // commander already printed the usage error
    io.err(`Error: ${e.message}`);
    return 1;
  }
}

if (require.main === module) {
  void runOpsCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
