/**
 * Fuzzing Publish end to end with fast-check: random sheets (header orders, malformed and unicode cells, formulas,
 * huge strings, duplicate and blank keys, random platforms, times, zones and options) go through POST /v1/runs in
 * publish mode to the real service, on a compressed Postato window. Never a 5xx, never a lost row, never two posts
 * for one row key, and the write-back never turns a cell into a formula. FUZZ_RUNS and FUZZ_TIME_MS widen a local hunt
 * (e.g. FUZZ_RUNS=250 FUZZ_TIME_MS=200000 npx jest test/security/publish-fuzz.test.ts --testTimeout 300000).
 */
import fc from 'fast-check';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { cellText, mapHeader } from '../../src/plan/sheet-contract';
import { ALL_POST_TYPES, INPUT_COLUMNS, OUTPUT_COLUMNS, PLATFORMS } from '../../appsscript/shared/sheet-columns';
import type { CellValue, RowResult, RunAccepted, RunStatusResponse } from '../../appsscript/shared/contract';
import type { SandboxAccount } from '../../src/sandbox/postato-sandbox-settings';
import { stackCaller } from '../demo-stack-client';

const SHEET = 'Posts';
const WINDOW_MS = 1000;
const CREATE_LIMIT = 30;
const MAX_ROWS = 10;
/** The longest cell the request schema accepts (50,000 characters). */
const MAX_CELL = 50_000;

const SANDBOX_PLATFORM: Record<string, string> = {
  x: 'twitter',
  instagram: 'instagram',
  linkedin: 'linkedin',
  tiktok: 'tiktok',
  youtube: 'youtube',
};
/** One connected account per platform in each fuzz workspace, named by id or by @username in the sheet. */
function accountsFor(workspaceId: string): SandboxAccount[] {
  return Object.entries(SANDBOX_PLATFORM).map(([short, platform]) => ({
    id: `acc_fz_${short}`,
    workspaceId,
    platform,
    username: `fz${short}`,
    status: 'connected',
  }));
}

const formula = fc.constantFrom(
  '=HYPERLINK("https://evil.example/","click")',
  '=1+1',
  '=IMPORTXML("https://x.example","//a")',
  '+SUM(1,2)',
  '@cmd',
  '-2+3',
);
const unicode = fc.string({ unit: 'grapheme', maxLength: 60 });
const junk = fc.oneof(
  fc.string({ maxLength: 30 }),
  unicode,
  formula,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

const keyCell = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('k-1', 'k-2', 'k-3', 'k-4', 'k-5', 'k-6', 'k-7', 'ключ-1', '🔑-2') },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '=HYPERLINK("https://evil.example/","k")') },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.string({ minLength: 1, maxLength: 12 })) },
);
const platformCell = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PLATFORMS, 'x', 'X', ' Twitter ') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('facebook', '', 'pinterest'), junk) },
);
const accountCell = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'acc_fz_x',
      'acc_fz_instagram',
      'acc_fz_linkedin',
      'acc_fz_tiktok',
      'acc_fz_youtube',
      '@fzx',
      '@fzlinkedin',
      '@fzyoutube',
    ),
  },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', 'acc_unknown', '@nobody'), junk) },
);
const contentCell = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 200 }) },
  { weight: 2, arbitrary: unicode.filter((s) => s.trim() !== '') },
  { weight: 1, arbitrary: formula },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'Part one\n---\nPart two\n---\nPart three',
      'Launch day 🚀 #sale https://shop.example.com/x',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: MAX_CELL }).map((n) => 'é'.repeat(n)) },
  { weight: 1, arbitrary: junk },
);
const mediaCell = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'https://cdn.example.com/a.jpg',
      'https://cdn.example.com/a.jpg, https://cdn.example.com/b.png',
      'med_01HFUZZ',
      'http://127.0.0.1/x.png',
      'https://drive.google.com/file/d/abc/view',
      'not a url',
    ),
  },
  { weight: 1, arbitrary: junk },
);
const timeCell = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', 'now') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '2031-02-01 10:00',
      '6/1/2031 9:30 PM',
      '01.06.2031 09:30',
      'June 1, 2031 9:30 AM',
      '2031-06-01T09:30:00Z',
      '2031-06-01T09:30:00+05:30',
      '2031-03-09 02:30',
      '2031-11-02 01:30',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('2020-01-01 10:00', 'tomorrow', '13/13/2031 25:61', '2099-01-01 00:00'),
      fc.integer({ min: -10, max: 90_000 }),
      fc.double(),
      junk,
    ),
  },
);
const zoneCell = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'UTC'),
  },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('Not/AZone', 'EST5EDT', '+05:00'), junk) },
);
const optionsCell = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"privacy":"public"}',
      '{"title":"=HYPERLINK(\\"x\\")"}',
      '{bad',
      '[]',
      'null',
      '{"poll":{"options":["a"],"duration_minutes":1}}',
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: junk },
);
const cellFor: Record<string, fc.Arbitrary<CellValue>> = {
  Key: keyCell,
  Platform: platformCell,
  Account: accountCell,
  'Post type': fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    { weight: 2, arbitrary: fc.constantFrom(...ALL_POST_TYPES) },
    { weight: 1, arbitrary: junk },
  ),
  Content: contentCell,
  Media: mediaCell,
  'Scheduled at': timeCell,
  'Time zone': zoneCell,
  Title: fc.oneof(fc.constant(''), fc.string({ maxLength: 120 }), formula),
  Options: optionsCell,
};

/** A row that would publish: platform, account, post type, media and title that fit together. */
const coherentRow: fc.Arbitrary<Record<string, CellValue>> = fc
  .record({
    platform: fc.constantFrom('x', 'linkedin', 'instagram', 'tiktok', 'youtube'),
    byUsername: fc.boolean(),
    content: fc.oneof(
      fc.string({ minLength: 1, maxLength: 100 }),
      unicode,
      formula,
      fc.constant('Part one\n---\nPart two'),
    ),
    time: fc.constantFrom(
      '',
      'now',
      '2031-02-01 10:00',
      '6/1/2031 9:30 PM',
      '2031-06-01T09:30:00+05:30',
      'June 1, 2031 9:30 AM',
    ),
    title: fc.oneof(fc.string({ minLength: 1, maxLength: 80 }), formula),
  })
  .map(({ platform, byUsername, content, time, title }) => ({
    Platform: platform,
    Account: byUsername ? `@fz${platform}` : `acc_fz_${platform}`,
    'Post type': '',
    Content: content.trim() === '' || (platform !== 'x' && content.includes('---')) ? 'Plain text' : content,
    Media:
      platform === 'instagram'
        ? 'https://cdn.example.com/a.jpg'
        : platform === 'tiktok' || platform === 'youtube'
          ? 'https://cdn.example.com/v.mp4'
          : '',
    'Scheduled at': time,
    'Time zone': '',
    Title: platform === 'youtube' ? title : '',
    Options: '',
  }));

/** A row: coherent, with each cell replaced by a random one at some rate (0 to all of them). */
const rowFor = (header: string[]): fc.Arbitrary<CellValue[]> =>
  fc
    .record({
      base: coherentRow,
      key: keyCell,
      noise: fc.tuple(...header.map((h) => (cellFor[h] ?? fc.constant<CellValue>('')) as fc.Arbitrary<CellValue>)),
      rate: fc.constantFrom(0, 0, 0, 0.15, 0.4, 1),
      draws: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
        minLength: header.length,
        maxLength: header.length,
      }),
    })
    .map(({ base, key, noise, rate, draws }) =>
      header.map((h, i) => (draws[i]! < rate ? noise[i]! : h === 'Key' ? key : h in base ? base[h]! : '')),
    );

/** Header: the input columns in random order (sometimes missing a required one, or an alias), maybe the outputs. */
const headerArb = fc
  .tuple(
    fc.shuffledSubarray([...INPUT_COLUMNS], { minLength: 3 }),
    fc.constantFrom<string[]>([], [...OUTPUT_COLUMNS], ['Status', 'Post ID', 'Error']),
    fc.constantFrom<string[]>([], ['Notes'], ['=HYPERLINK("x","Extra")']),
    fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
  )
  .chain(([inputs, outputs, extra, ensureRequired]) => {
    const cols = ensureRequired
      ? [...new Set([...inputs, 'Key', 'Platform', 'Account', 'Content', 'Media', 'Title'])]
      : inputs;
    return fc
      .shuffledSubarray([...cols, ...extra], { minLength: cols.length + extra.length })
      .map((order) => [...order, ...outputs]);
  });

const sheetArb = headerArb.chain((header) =>
  fc.record({
    header: fc.constant(header),
    rows: fc.array(rowFor(header), { minLength: 1, maxLength: MAX_ROWS }),
    timeZone: fc.constantFrom('America/New_York', 'Europe/London', 'Asia/Tokyo'),
    settings: fc.option(
      fc.record({ minGapMinutes: fc.integer({ min: 0, max: 30 }), jitterSeconds: fc.integer({ min: 0, max: 120 }) }),
      { nil: undefined },
    ),
  }),
);

const asText = (v: CellValue): string => (v === null ? '' : String(v));

describe('fuzz: Publish never answers 5xx, never loses a row, never posts twice', () => {
  let stack: DemoStack;
  let iteration = 0;

  beforeAll(async () => {
    stack = await startDemoStack({
      env: {
        POSTATO_CREATE_LIMIT: String(CREATE_LIMIT),
        POSTATO_WINDOW_MS: String(WINDOW_MS),
        MAX_ROWS_PER_RUN: String(MAX_ROWS),
        REQUESTS_PER_MINUTE: '100000',
        REQUESTS_PER_MINUTE_PER_ADDRESS: '100000',
        SHEETS_WRITES_PER_MINUTE: '100000',
      },
      sandboxSettings: { limits: { create: CREATE_LIMIT, write: CREATE_LIMIT, windowMs: WINDOW_MS } },
    });
    // Sheets quotas are not what this test is about: lift them so the write-back never waits for a window.
    stack.sheets.update({ quotaPerMinute: 100_000 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const call = stackCaller(() => stack);

  async function followToEnd(runId: string): Promise<{ status: RunStatusResponse; results: RowResult[] }> {
    const results: RowResult[] = [];
    let cursor = '';
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await call<RunStatusResponse>('GET', `/v1/runs/${runId}${cursor ? `?since=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      results.push(...res.body.results);
      cursor = res.body.cursor;
      if (['done', 'cancelled', 'failed'].includes(res.body.state)) return { status: res.body, results };
      if (Date.now() > deadline) throw new Error(`run ${runId} did not end: ${JSON.stringify(res.body.counts)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('random sheets published to the real service', async () => {
    await fc.assert(
      fc.asyncProperty(sheetArb, async ({ header, rows, timeZone, settings }) => {
        iteration += 1;
        const spreadsheetId = `ss-fuzz-${iteration}`;
        const workspaceId = `wks_fuzz_${iteration}`;
        stack.sandbox.update({ accounts: accountsFor(workspaceId) });
        const sheetValues = [header, ...rows.map((r) => r.map(asText))];
        stack.sheets.loadCsv(spreadsheetId, SHEET, 'x', { timeZone });
        stack.sheets.setValues(spreadsheetId, SHEET, sheetValues);
        await stack.proveAccess(spreadsheetId);

        const request = {
          mode: 'publish',
          spreadsheetId,
          sheetName: SHEET,
          sheetId: 0,
          spreadsheetTimeZone: timeZone,
          workspaceId,
          header,
          rows: rows.map((values, i) => ({ rowNumber: i + 2, values })),
          ...(settings ? { settings } : {}),
        };
        const res = await call<RunAccepted & { error?: unknown; message?: unknown }>('POST', '/v1/runs', request);
        expect(res.status).toBeLessThan(500);
        if (res.status !== 202) {
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(typeof res.body.error).toBe('string');
          expect(typeof res.body.message).toBe('string');
          expect(stack.sandbox.inspect().posts.filter((p) => p.workspaceId === workspaceId)).toEqual([]);
          return;
        }

        const { status, results } = await followToEnd(res.body.runId);
        expect(status.state).toBe('done');
        const c = status.counts;
        expect(c.total).toBe(c.created + c.failed + c.skipped);
        expect(c.pending).toBe(0);
        expect(results).toHaveLength(c.total);

        // Every non-blank row with a key was committed and has a result.
        const map = mapHeader(header);
        const resultKeys = new Set(results.map((r) => r.key));
        const keyed = rows.filter(
          (r) =>
            cellText(r, map, 'Key') !== '' &&
            ['Platform', 'Account', 'Post type', 'Content', 'Media', 'Scheduled at', 'Title', 'Options'].some(
              (col) => cellText(r, map, col as never) !== '',
            ),
        );
        for (const r of keyed) expect(resultKeys).toContain(cellText(r, map, 'Key'));

        // One post per row key: every post in this workspace belongs to exactly one key, and no key has two.
        const posts = stack.sandbox.inspect().posts.filter((p) => p.workspaceId === workspaceId);
        const postIdsByKey = new Map<string, Set<string>>();
        for (const r of results)
          if (r.postId) (postIdsByKey.get(r.key) ?? postIdsByKey.set(r.key, new Set()).get(r.key)!).add(r.postId);
        for (const [key, ids] of postIdsByKey) expect({ key, posts: ids.size }).toEqual({ key, posts: 1 });
        const referenced = [...postIdsByKey.values()].flatMap((s) => [...s]);
        expect(new Set(referenced).size).toBe(referenced.length);
        expect(posts.map((p) => p.id).sort()).toEqual([...referenced].sort());
        expect(posts).toHaveLength(c.created);

        // The write-back writes RAW: no cell becomes a formula, and input cells stay exactly as they were.
        await stack.service.flusher!.drain(spreadsheetId);
        expect(stack.sheets.formulaCells(spreadsheetId, SHEET)).toEqual([]);
        const after = stack.sheets.getValues(spreadsheetId, SHEET);
        const outputIdx = new Set(
          Object.entries(map.index)
            .filter(([name]) => (OUTPUT_COLUMNS as readonly string[]).includes(name))
            .map(([, i]) => i),
        );
        const inputsOf = (values: string[][]) =>
          values.map((r) => header.map((_, i) => (outputIdx.has(i) ? '' : (r[i] ?? ''))));
        expect(inputsOf(after)).toEqual(inputsOf(sheetValues));

        // Publishing the sheet again as it now reads (what the add-on sends) creates nothing new.
        const [header2 = [], ...rows2] = after;
        const again = await call<RunAccepted>('POST', '/v1/runs', {
          ...request,
          header: header2,
          rows: rows2.map((values, i) => ({ rowNumber: i + 2, values })),
        });
        expect(again.status).toBe(202);
        const second = await followToEnd(again.body.runId);
        expect(second.status.state).toBe('done');
        expect(second.status.counts.created).toBe(0);
        expect(stack.sandbox.inspect().posts.filter((p) => p.workspaceId === workspaceId)).toHaveLength(posts.length);
      }),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 40),
        interruptAfterTimeLimit: Number(process.env.FUZZ_TIME_MS ?? 50_000),
      },
    );
  });
});
