/**
 * A content calendar of 20,000 rows: the add-on sends the 200 new rows in full and the rest in compact form, in one
 * request under 1 MB, and the service (its real request parser and planner) plans those 200 exactly as it plans them
 * when it gets the whole sheet in full.
 *
 * The posted rows' times carry the clock's milliseconds on purpose: the planner once pushed a zero-jitter row a
 * fraction of a second short of a full gap after such a row, met it again, and never returned (the test "hung").
 * Assertions on the 20,000-row objects compare counts and keys, so a failure prints a line, not megabytes.
 */
import type { RunRequest } from '../../../appsscript/shared/contract';
import type { RawCell } from '../../../appsscript/server/apps-script-types';
import { prepareAction, startRun } from '../../../appsscript/server/run-actions';
import { saveSettings } from '../../../appsscript/server/settings';
import { readSheet } from '../../../appsscript/server/sheet-reader';
import { ManualClock } from '../../../src/clock';
import { parseRunRequest } from '../../../src/http/run-request-schema';
import { withContextRows } from '../../../src/plan/context-rows';
import { planRun } from '../../../src/runs/dry-run-service';
import { createFakes, fakeApiKey, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import { dryRunAnswerFor } from '../fakes/sample-sheet';

const HOUR = 3_600_000;
const ACCOUNTS = [
  ['twitter', 'acc_tw'],
  ['linkedin', 'acc_li'],
  ['instagram', 'acc_ig'],
] as const;
const HEADER = [
  'Key',
  'Platform',
  'Account',
  'Content',
  'Media',
  'Scheduled at',
  'Status',
  'Post ID',
  'Error',
  'Scheduled (UTC)',
  'Link',
  'Run',
  'Updated',
];

/** 19,800 posted rows (most long past, 1,500 still ahead, holding slots) and 200 new rows among them. */
function calendar(nowMs: number): RawCell[][] {
  const rows: RawCell[][] = [HEADER];
  for (let i = 0; i < 20_000; i++) {
    const [platform, account] = ACCOUNTS[i % 3]!;
    const media = platform === 'instagram' ? 'https://example.com/p.jpg' : '';
    const content = `Post number ${i}`;
    if (i % 100 === 7) {
      // New: half auto-slotted, half at a time near the posted ones, so the posted rows' slots matter.
      const at = i % 200 === 7 ? '' : new Date(nowMs + 2 * HOUR + (i % 40) * 600_000).toISOString();
      rows.push([`r-new-${i}`, platform, account, content, media, at, '', '', '', '', '', '', '']);
      continue;
    }
    const future = i >= 18_500;
    const ms = future ? nowMs + HOUR + (i - 18_500) * 20 * 60_000 : nowMs - 72 * HOUR - (18_500 - i) * HOUR;
    const utc = new Date(ms).toISOString();
    rows.push([`r-${i}`, platform, account, content, media, '', 'SCHEDULED', `pst_${i}`, '', utc, '', 'run_1', '']);
  }
  return rows;
}

describe('a long calendar', () => {
  let fakes: AppsScriptFakes;
  let uninstall: () => void;
  // Now, with a fraction of a second (see above), so the posted rows ahead never fall on whole seconds.
  const nowMs = Math.floor(Date.now() / 1000) * 1000 + 587;
  const sent: RunRequest[] = [];
  const sizes: number[] = [];
  beforeAll(() => {
    fakes = createFakes({ cells: calendar(nowMs) });
    fakes.UrlFetchApp.handler = (_url, params) => {
      sizes.push(Buffer.byteLength(params.payload ?? '', 'utf8'));
      const body = JSON.parse(params.payload!) as RunRequest;
      sent.push(body);
      return body.mode === 'dry-run'
        ? { status: 200, body: dryRunAnswerFor(body) }
        : { status: 202, body: { runId: 'run_1', joined: false } };
    };
    uninstall = installFakes(fakes);
    // No jitter: every post lands on the second it asks for or is pushed to, so the fraction-of-a-second neighbours
    // above are met on every run, not only for the spreadsheet ids whose key hashes give some row a zero jitter.
    saveSettings({ workspaceId: 'ws_1', apiKey: fakeApiKey(), jitterSeconds: 0 });
  });
  afterAll(() => uninstall());

  it('Publish sends one request under 1 MB: the 200 new rows in full, the posts still ahead in compact form', () => {
    const preview = prepareAction('publish', {});
    startRun({ action: 'publish', target: preview.target });
    expect(sent.map((b) => b.mode)).toEqual(['dry-run', 'publish']);
    expect(Math.max(...sizes)).toBeLessThan(1_000_000);
    // The confirmation's dry run sends exactly what Publish sends.
    // (Compared as text: a diff of 20,000 rows would take jest minutes to print.)
    expect(JSON.stringify([sent[0]!.rows, sent[0]!.contextRows])).toBe(
      JSON.stringify([sent[1]!.rows, sent[1]!.contextRows]),
    );
    const body = sent[1]!;
    expect(body.rows.length).toBe(200);
    expect(body.rows.map((r) => String(r.values[0])).filter((key) => !key.startsWith('r-new-'))).toEqual([]);
    // Every posted row from two days ago on holds a slot; older ones are not needed for planning.
    expect(body.contextRows!.length).toBe(1_500 - 15);
    // The service's row limit counts the rows acted on only.
    expect(() => parseRunRequest(body, 5_000)).not.toThrow();
  });

  it('the service plans those 200 exactly as it plans them from the whole sheet sent in full', async () => {
    const compact = sent[1]!;
    const snapshot = readSheet();
    const full: RunRequest = {
      ...compact,
      rows: snapshot.rows,
      onlyKeys: compact.rows.map((r) => String(r.values[0])),
    };
    delete full.contextRows;
    expect(full.rows.length).toBe(20_000);
    const ctx = {
      clock: new ManualClock(nowMs),
      defaults: { minGapMinutes: 15, jitterSeconds: 90, createLimit: 120, windowMs: 60_000 },
    };
    const fromCompact = await planRun(withContextRows(parseRunRequest(compact, 5_000)), ctx);
    const fromFull = await planRun(full, ctx);
    expect(fromCompact.rows.length).toBe(200);
    expect(fromFull.rows.length).toBe(200);
    const differing = fromCompact.rows.filter(
      (r, i) =>
        JSON.stringify([r.verdict, r.body]) !== JSON.stringify([fromFull.rows[i]!.verdict, fromFull.rows[i]!.body]),
    );
    expect(differing.map((r) => r.rowNumber)).toEqual([]);
    expect(JSON.stringify(fromCompact.summary)).toBe(JSON.stringify(fromFull.summary));
    // The posted rows ahead mattered: some explicit times were moved away from them.
    expect(fromCompact.rows.some((r) => r.verdict.messages.some((m) => /later/.test(m.message)))).toBe(true);
  });
});
