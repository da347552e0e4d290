/**
 * `npm run demo`: Publish on embedded defaults, end to end. It starts the Postato sandbox, a Sheets fake holding the
 * sample campaign, and the real service on SQLite; then does what the add-on does: Dry run, Publish, follow the run,
 * fix the failed row in place, Publish again (only that row goes out), and prints the sheet after each step.
 */
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { DateTime } from 'luxon';
import path from 'node:path';
import { startDemoStack, type DemoStack } from './demo-stack';
import type { DryRunResponse, RunAccepted, RunRequest, RunStatusResponse } from '../appsscript/shared/contract';

const SPREADSHEET_ID = 'demo-spreadsheet';
const SHEET = 'Campaign';
const ROOT = path.resolve(__dirname, '..');
/** The accounts connected in the demo workspace; the sample campaign names them by username or id. */
const DEMO_ACCOUNTS = [
  {
    id: 'acc_01HDEMOXBRAND',
    workspaceId: 'wks_demo',
    platform: 'twitter',
    username: 'brand',
    status: 'connected' as const,
  },
  {
    id: 'acc_01HDEMOIGSTUDIO',
    workspaceId: 'wks_demo',
    platform: 'instagram',
    username: 'brand.studio',
    status: 'connected' as const,
  },
  {
    id: 'acc_01HLINKEDINPAGE',
    workspaceId: 'wks_demo',
    platform: 'linkedin',
    username: 'brand-company',
    status: 'connected' as const,
  },
  {
    id: 'acc_01HDEMOYTBRANDTV',
    workspaceId: 'wks_demo',
    platform: 'youtube',
    username: 'brandtv',
    status: 'connected' as const,
  },
  {
    id: 'acc_01HDEMOTIKTOK',
    workspaceId: 'wks_demo',
    platform: 'tiktok',
    username: 'brand',
    status: 'connected' as const,
  },
];
const TOO_LONG = `Spring sale starts now! ${'Every piece of the collection is made from recycled fabric. '.repeat(5)}`;

/** The sample campaign's first date; the demo moves every date by whole days when that is no longer weeks ahead. */
const SAMPLE_FIRST_DAY = '2027-04-01';

/** Moves the dates in a "Scheduled at" cell (2027-04-01 …, 4/1/2027 …) by `days`, keeping times and offsets. */
function shiftDates(cell: string, days: number): string {
  const iso = (y: string, m: string, d: string) => DateTime.fromObject({ year: +y, month: +m, day: +d }).plus({ days });
  return cell
    .replace(/\b(\d{4})-(\d{2})-(\d{2})/g, (_, y, m, d) => iso(y, m, d).toFormat('yyyy-MM-dd'))
    .replace(/\b(\d{1,2})\/(\d{1,2})\/(\d{4})/g, (_, m, d, y) => iso(y, m, d).toFormat('M/d/yyyy'));
}

/** Keeps the sample campaign in the future whatever today's date: its first day becomes at least two weeks ahead. */
function keepSampleInFuture(values: string[][]): string[][] {
  const earliest = DateTime.utc().plus({ days: 14 }).startOf('day');
  const days = Math.max(0, Math.ceil(earliest.diff(DateTime.fromISO(SAMPLE_FIRST_DAY, { zone: 'utc' }), 'days').days));
  if (days === 0) return values;
  const col = values[0]!.indexOf('Scheduled at');
  return values.map((r, i) => (i === 0 || col < 0 ? r : r.map((v, j) => (j === col ? shiftDates(v, days) : v))));
}

async function call<T>(
  stack: DemoStack,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(stack.url + route, {
    method,
    headers: { ...stack.headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** What the add-on sends: the sheet read once, header plus rows with their row numbers. */
function readSheet(stack: DemoStack, mode: RunRequest['mode'], settings?: RunRequest['settings']): RunRequest {
  const [header = [], ...rows] = stack.sheets.getValues(SPREADSHEET_ID, SHEET);
  return {
    mode,
    spreadsheetId: SPREADSHEET_ID,
    sheetName: SHEET,
    sheetId: 0,
    spreadsheetTimeZone: 'America/New_York',
    workspaceId: 'wks_demo',
    header,
    rows: rows.map((values, i) => ({ rowNumber: i + 2, values })),
    settings,
  };
}

function printSheet(stack: DemoStack, title: string): void {
  const [header = [], ...rows] = stack.sheets.getValues(SPREADSHEET_ID, SHEET);
  const pick = ['Key', 'Platform', 'Status', 'Post ID', 'Scheduled (UTC)', 'Error'];
  const idx = pick.map((name) => header.indexOf(name));
  const table = rows.map((r) => idx.map((i) => (i < 0 ? '' : (r[i] ?? '').slice(0, 60))));
  const widths = pick.map((h, c) => Math.max(h.length, ...table.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => s.padEnd(widths[c]!)).join('  ');
  console.log(`\n── ${title}`);
  console.log(line(pick));
  for (const r of table) console.log(line(r));
}

async function publishAndFollow(stack: DemoStack, settings: RunRequest['settings']): Promise<RunStatusResponse> {
  const accepted = await call<RunAccepted>(stack, 'POST', '/v1/runs', readSheet(stack, 'publish', settings));
  if (accepted.status !== 202) throw new Error(`Publish refused: ${JSON.stringify(accepted.body)}`);
  const runId = accepted.body.runId;
  for (;;) {
    const status = await call<RunStatusResponse>(stack, 'GET', `/v1/runs/${runId}`);
    const c = status.body.counts;
    process.stdout.write(
      `\r   run ${runId.slice(0, 12)}…  ${status.body.state.padEnd(9)} created ${c.created}/${c.total}  failed ${c.failed}  skipped ${c.skipped}   `,
    );
    if (['done', 'cancelled', 'failed'].includes(status.body.state)) {
      process.stdout.write('\n');
      await stack.service.flusher?.drain(SPREADSHEET_ID);
      return status.body;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const dataDir = path.join(ROOT, 'data');
  mkdirSync(dataDir, { recursive: true });
  const dbFile = path.join(dataDir, 'demo.db');
  for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });

  const stack = await startDemoStack({ databaseUrl: `sqlite:${dbFile}`, sandboxSettings: { accounts: DEMO_ACCOUNTS } });
  try {
    console.log(
      `Postato sandbox  ${stack.sandbox.url}\nSheets fake      ${stack.sheets.url}\nService          ${stack.url}  (ledger ${path.relative(ROOT, dbFile)})`,
    );
    const csv = readFileSync(path.join(ROOT, 'examples', 'sample-campaign.csv'), 'utf8');
    stack.sheets.loadCsv(SPREADSHEET_ID, SHEET, csv, { timeZone: 'America/New_York' });
    // One row the dry run will reject: a tweet over X's 280-character limit.
    const values = keepSampleInFuture(stack.sheets.getValues(SPREADSHEET_ID, SHEET));
    const header = values[0]!;
    const longRow = header.map(
      (h) => ({ Key: 'launch-x-long', Platform: 'x', Account: '@brand', Content: TOO_LONG })[h as 'Key'] ?? '',
    );
    stack.sheets.setValues(SPREADSHEET_ID, SHEET, [...values, longRow]);
    printSheet(stack, 'The campaign sheet');

    console.log('\n▶ Prove access: the add-on writes a challenge as developer metadata, the service reads it back');
    await stack.proveAccess(SPREADSHEET_ID);
    console.log('   proven: this caller may have the service read, write and report on the spreadsheet');

    console.log('\n▶ Dry run');
    const dry = await call<DryRunResponse>(stack, 'POST', '/v1/runs', readSheet(stack, 'dry-run'));
    if (dry.status !== 200) throw new Error(`Dry run refused: ${JSON.stringify(dry.body)}`);
    const s = dry.body.summary;
    console.log(
      `   ${s.total} rows: ${s.ready} ready, ${s.warning} with warnings, ${s.invalid} invalid; ${s.toSend} to send`,
    );
    console.log(`   earliest ${s.earliest ?? '-'}  latest ${s.latest ?? '-'}`);
    console.log(`   ${s.pacing}`);
    for (const c of s.counts) console.log(`   ${c.day}  ${c.platform.padEnd(10)} ${c.accountId.padEnd(20)} ${c.count}`);
    for (const v of dry.body.rows) {
      for (const m of v.messages) console.log(`   row ${v.rowNumber} ${m.level.padEnd(7)} ${m.message}`);
    }

    console.log('\n▶ Publish');
    const first = await publishAndFollow(stack, dry.body.settings);
    printSheet(stack, 'After Publish (results written back by the service)');

    console.log('\n▶ Fix the failed row in place, then Publish again: only that row goes out');
    const after = stack.sheets.getValues(SPREADSHEET_ID, SHEET);
    const contentCol = after[0]!.indexOf('Content');
    const fixed = after.map((r) =>
      r[after[0]!.indexOf('Key')] === 'launch-x-long'
        ? r.map((v, i) => (i === contentCol ? 'Spring sale starts now! Recycled fabric, every piece.' : v))
        : r,
    );
    stack.sheets.setValues(SPREADSHEET_ID, SHEET, fixed);
    const second = await publishAndFollow(stack, dry.body.settings);
    printSheet(stack, 'After the second Publish');

    const posts = stack.sandbox.inspect().posts;
    const keys = new Set(posts.map((p) => p.idempotencyKey));
    console.log(`\nPostato now holds ${posts.length} posts (${keys.size} distinct idempotency keys).`);
    console.log(
      `First run created ${first.counts.created}, skipped ${first.counts.skipped}; the second created ${second.counts.created} and left ${second.counts.skipped} alone.`,
    );
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(`Demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
