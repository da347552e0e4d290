import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { ManualClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { createRunsRouter, type RunsRouterDeps } from '../../src/http/runs-routes';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import type { ContextRow, DryRunResponse, RunRequest } from '../../appsscript/shared/contract';
import { HEADER, NOW, sheetRows, type RowSpec } from '../plan/plan-fixtures';

const WS = 'wks_01API';
const SECRET = randomBytes(16).toString('hex');
const apiKey = 'smcp_' + randomBytes(32).toString('hex');
const accounts = [
  { id: 'acc_main', workspaceId: WS, platform: 'twitter', username: 'main', status: 'connected' as const },
  { id: 'acc_ig', workspaceId: WS, platform: 'instagram', username: 'gram', status: 'connected' as const },
  { id: 'acc_yt', workspaceId: WS, platform: 'youtube', username: 'tube', status: 'connected' as const },
  ...Array.from({ length: 50 }, (_, i) => ({
    id: `acc_t${i}`,
    workspaceId: WS,
    platform: 'twitter',
    username: `t${i}`,
    status: 'connected' as const,
  })),
];

/** The row kinds of the 500-row sheet: what each holds, the status it must get, and a phrase its messages must contain. */
const KINDS: Array<{ spec: (i: number) => RowSpec; status: string; says?: string }> = [
  { spec: (i) => ({ Platform: 'x', Account: '@main', Content: `Auto-slotted post ${i}` }), status: 'READY' },
  {
    spec: (i) => ({
      Platform: 'X',
      Account: `acc_t${((i / 10) % 50) | 0}`,
      Content: `Timed post ${i}`,
      'Scheduled at': '2025-06-05 10:00',
    }),
    status: 'READY',
  },
  {
    spec: (i) => ({ Platform: 'instagram', Account: 'acc_ig', Content: `No media ${i}` }),
    status: 'INVALID',
    says: 'Media: An Instagram feed needs exactly 1',
  },
  {
    spec: (i) => ({ Platform: 'x', Account: 'acc_main', Content: `Past ${i}`, 'Scheduled at': '2025-06-01 09:00' }),
    status: 'INVALID',
    says: 'in the past',
  },
  {
    spec: () => ({ Platform: 'x', Account: 'acc_main', Content: 'y'.repeat(300) }),
    status: 'INVALID',
    says: '300 weighted characters',
  },
  {
    spec: (i) => ({
      Platform: 'youtube',
      Account: 'acc_yt',
      Content: `Video ${i}`,
      Media: 'https://cdn.example.com/v.mp4',
    }),
    status: 'INVALID',
    says: 'Title: is empty',
  },
  {
    spec: (i) => ({
      Platform: 'x',
      Account: 'acc_main',
      Content: `Insecure ${i}`,
      Media: 'http://cdn.example.com/a.jpg',
    }),
    status: 'INVALID',
    says: 'must use https',
  },
  {
    spec: (i) => ({ Platform: 'x', Account: 'acc_main', Content: `Dup key ${i}`, Key: `key-${i - 1}` }),
    status: 'INVALID',
    says: 'is also used by row',
  },
  {
    spec: (i) => ({ Platform: 'x', Account: '@ghost', Content: `Ghost ${i}` }),
    status: 'INVALID',
    says: 'is not an X account of this Postato workspace',
  },
  {
    spec: (i) => ({
      Platform: 'x',
      Account: 'acc_main',
      Content: `Far ${i}`,
      'Scheduled at': `2026-08-${String((i % 28) + 1).padStart(2, '0')} ${10 + (((i / 10) % 10) | 0)}:00`,
    }),
    status: 'WARNING',
    says: 'more than a year away',
  },
];

function sheet(n: number): { rows: RunRequest['rows']; expected: Array<{ status: string; says?: string }> } {
  const specs: RowSpec[] = [];
  const expected: Array<{ status: string; says?: string }> = [];
  for (let i = 0; i < n; i++) {
    const kind = KINDS[i % KINDS.length]!;
    specs.push({ Key: `key-${i}`, ...kind.spec(i) });
    expected.push({ status: kind.status, says: kind.says });
  }
  return { rows: sheetRows(specs), expected };
}

const body = (rows: RunRequest['rows'], extra: Partial<RunRequest> = {}): RunRequest => ({
  mode: 'dry-run',
  spreadsheetId: 'sheet-api',
  sheetName: 'Posts',
  sheetId: 0,
  spreadsheetTimeZone: 'America/New_York',
  workspaceId: WS,
  header: HEADER,
  rows,
  ...extra,
});

describe('POST /v1/runs (dry run)', () => {
  let sandbox: PostatoSandbox;
  let app: ReturnType<typeof createApp>;
  const started: unknown[] = [];
  const clock = new ManualClock(NOW);

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({ settings: { accounts }, clock, tickIntervalMs: 0 });
    const config = loadConfig({
      NODE_ENV: 'test',
      AUTH_SHARED_SECRET: SECRET,
      POSTATO_API_URL: sandbox.url,
      POSTATO_TIMEOUT_MS: '2000',
      MAX_ROWS_PER_RUN: '600',
      LOG_LEVEL: 'silent',
    });
    const deps: RunsRouterDeps = { config, clock, logger: silentLogger };
    const publishing = createRunsRouter({
      ...deps,
      startRun: async (args) => (started.push(args), { runId: 'run_1', joined: false, summary: args.planned.summary }),
    });
    app = createApp({ config, logger: silentLogger, routers: [publishing] });
  });
  afterAll(() => sandbox.close());

  const post = (payload: unknown, key: string | null = apiKey) => {
    const r = request(app).post('/v1/runs').set('X-Shared-Secret', SECRET).set('X-User-Id', 'tester');
    if (key !== null) r.set('X-Postato-Api-Key', key);
    return r.send(payload as object);
  };

  it('checks every verdict of a 500-row sheet mixing good and bad rows', async () => {
    const { rows, expected } = sheet(500);
    const res = await post(body(rows));
    expect(res.status).toBe(200);
    const out = res.body as DryRunResponse;
    expect(out.rows).toHaveLength(500);
    out.rows.forEach((verdict, i) => {
      const want = expected[i]!;
      const text = verdict.messages.map((m) => m.message).join(' | ');
      expect({ row: verdict.rowNumber, status: verdict.status, text }).toEqual({
        row: i + 2,
        status: want.status,
        text: want.says ? expect.stringContaining(want.says) : expect.any(String),
      });
      if (verdict.status !== 'INVALID') expect(verdict.plannedAt).toMatch(/Z$/);
    });
    expect(out.summary).toMatchObject({
      total: 500,
      ready: 100,
      warning: 50,
      invalid: 350,
      toSend: 150,
      accountsChecked: true,
      collisionsChecked: true,
      estimatedPublishSeconds: 62,
    });
    expect(out.settings).toMatchObject({ minGapMinutes: 15, jitterSeconds: 90, timeZone: 'America/New_York' });
    // auto-slotted rows of one account are at least 15 minutes apart
    const auto = out.rows
      .filter((r) => r.timeSource === 'auto' && r.accountId === 'acc_main' && r.status !== 'INVALID')
      .map((r) => Date.parse(r.plannedAt!))
      .sort((a, b) => a - b);
    expect(auto).toHaveLength(50);
    for (let i = 1; i < auto.length; i++) expect(auto[i]! - auto[i - 1]!).toBeGreaterThanOrEqual(15 * 60_000);
    expect(JSON.stringify(res.body)).not.toContain(apiKey);
  });

  it('answers the same plan again when the resolved settings are sent back', async () => {
    const { rows } = sheet(40);
    const first = await post(body(rows));
    const second = await post(body(rows, { settings: first.body.settings }));
    expect(second.body).toEqual(first.body);
  });

  it('requires a well-formed Postato API key and never echoes it', async () => {
    const missing = await post(body(sheet(2).rows), null);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('postato_key_missing');
    const bad = 'smcp_123-not-hex';
    const malformed = await post(body(sheet(2).rows), bad);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('postato_key_malformed');
    expect(JSON.stringify(malformed.body)).not.toContain(bad);
  });

  it('refuses unknown fields, bad zones, missing columns and too many rows with clear messages', async () => {
    const unknown = await post({ ...body(sheet(1).rows), colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('colour');
    // sheetsAccessToken was accepted and never used; it is no longer part of the contract.
    const token = await post({ ...body(sheet(1).rows), sheetsAccessToken: 'ya29.a-token' });
    expect(token.status).toBe(400);
    expect(token.body.message).toContain('sheetsAccessToken');
    expect(token.text).not.toContain('ya29.a-token');
    const zone = await post(body(sheet(1).rows, { spreadsheetTimeZone: 'Nowhere/Land' }));
    expect(zone.status).toBe(400);
    expect(zone.body.message).toContain('spreadsheetTimeZone');
    expect(zone.body.message).toMatch(/America\/New_York\)\.$/);
    const columns = await post(body(sheet(1).rows, { header: ['Key', 'Content'] }));
    expect(columns.status).toBe(400);
    expect(columns.body).toMatchObject({ error: 'missing_columns', details: { missing: ['Platform', 'Account'] } });
    const tooMany = await post(body(sheet(601).rows));
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.message).toContain('601 rows');
  });

  it('with contextRows, the rows acted on come in full and the rest compact: only those are planned for and counted', async () => {
    const { rows } = sheet(700);
    const col = (name: string) => HEADER.indexOf(name as (typeof HEADER)[number]);
    const compact = (r: RunRequest['rows'][number]): ContextRow => [
      r.rowNumber,
      String(r.values[col('Key')]),
      r.values[col('Platform')] ?? null,
      r.values[col('Account')] ?? null,
      r.values[col('Scheduled at')] ?? null,
      r.values[col('Time zone')] ?? null,
      r.values[col('Post ID')] ?? null,
      null,
    ];
    const acted = rows.slice(100, 110);
    const others = [...rows.slice(0, 100), ...rows.slice(110)].map(compact);
    // 700 rows exceed the limit of 600 only when all of them are sent in full.
    const res = await post(body(acted, { contextRows: others }));
    expect(res.status).toBe(200);
    const answer = res.body as DryRunResponse;
    expect(answer.rows.map((r) => r.rowNumber)).toEqual(acted.map((r) => r.rowNumber));
    expect(answer.summary.total).toBe(10);
    // The same ten rows planned from a sheet sent in full (its first 600 rows, within the limit, which hold them).
    const whole = await post(body(rows.slice(0, 600), { onlyKeys: acted.map((r) => String(r.values[col('Key')])) }));
    expect(whole.status).toBe(200);
    const near = await post(
      body(acted, {
        contextRows: rows
          .slice(0, 600)
          .filter((r) => !acted.includes(r))
          .map(compact),
      }),
    );
    // Same times and the same findings; only "same text as row N" needs row N's text, which compact rows do not carry.
    const comparable = (rows: DryRunResponse['rows']) =>
      rows.map((r) => ({
        rowNumber: r.rowNumber,
        plannedAt: r.plannedAt,
        messages: r.messages.filter((m) => !/the same text/.test(m.message)),
      }));
    expect(comparable((near.body as DryRunResponse).rows)).toEqual(comparable((whole.body as DryRunResponse).rows));
    const twice = await post(body(acted, { contextRows: [compact(acted[0]!)] }));
    expect(twice.status).toBe(400);
    expect(twice.body.message).toMatch(/Row number 102 appears twice/);
  });

  it('plans publish the same way and hands it to the run service (202)', async () => {
    const res = await post(body(sheet(10).rows, { mode: 'publish' }));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ runId: 'run_1', joined: false });
    expect(started).toHaveLength(1);
  });

  it('answers 501 for publish when no run service is wired', async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      AUTH_SHARED_SECRET: SECRET,
      POSTATO_API_URL: sandbox.url,
      LOG_LEVEL: 'silent',
    });
    const bare = createApp({
      config,
      logger: silentLogger,
      routers: [createRunsRouter({ config, clock, logger: silentLogger })],
    });
    const res = await request(bare)
      .post('/v1/runs')
      .set('X-Shared-Secret', SECRET)
      .set('X-Postato-Api-Key', apiKey)
      .send(body(sheet(1).rows, { mode: 'unschedule' }));
    expect(res.status).toBe(501);
    expect(res.body.message).toContain('only dry runs');
  });
});
