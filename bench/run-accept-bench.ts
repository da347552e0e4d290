/**
 * Accept benchmark: how long POST /v1/runs (mode publish) takes to plan and commit a 5,000-row run to the SQLite
 * ledger and answer 202, against the one-second budget. Prints the ratio; the dispatcher is not started.
 *
 * Run: npx tsx bench/run-accept-bench.ts [rows]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/logger';
import { buildService } from '../src/service';
import { startPostatoSandbox } from '../src/sandbox/postato-sandbox';

const HEADER = ['Key', 'Platform', 'Account', 'Post type', 'Content', 'Scheduled at', 'Status', 'Post ID', 'Error'];

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 5000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accept-bench-'));
  const secret = randomBytes(16).toString('hex');
  // The sandbox answers the dry-run reads (accounts, scheduled posts) the plan makes before the commit.
  const sandbox = await startPostatoSandbox({ tickIntervalMs: 0 });
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SHARED_SECRET: secret,
    POSTATO_API_URL: sandbox.url,
    DATABASE_URL: `sqlite:${path.join(dir, 'ledger.db')}`,
    MAX_ROWS_PER_RUN: String(rows),
    REQUESTS_PER_MINUTE: '100000',
    REQUESTS_PER_MINUTE_PER_ADDRESS: '100000',
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  });
  const service = await buildService(config, { logger: silentLogger, startDispatcher: false });
  const sheetRows = Array.from({ length: rows }, (_, i) => ({
    rowNumber: i + 2,
    values: [`k${i}`, 'x', `acc_${i % 50}`, '', `Post number ${i}`, '', '', '', ''],
  }));
  const body = {
    mode: 'publish',
    spreadsheetId: 'bench',
    sheetName: 'Posts',
    sheetId: 0,
    spreadsheetTimeZone: 'America/New_York',
    workspaceId: 'wks_bench',
    header: HEADER,
    rows: sheetRows,
  };
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const res = await request(service.app)
      .post('/v1/runs')
      .set('X-Shared-Secret', secret)
      .set('X-User-Id', `bench-${i}`)
      .set('X-Postato-Api-Key', 'smcp_' + randomBytes(32).toString('hex'))
      .send({ ...body, spreadsheetId: `bench-${i}` });
    times.push(performance.now() - started);
    if (res.status !== 202)
      throw new Error(`expected 202, got ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  const best = Math.min(...times);
  console.log(
    `publish accept: ${rows} rows, 202 in ${best.toFixed(0)} ms (best of 3; all: ${times.map((t) => t.toFixed(0)).join(', ')}), ratio to the 1 s budget ${(best / 1000).toFixed(2)}`,
  );
  await service.close();
  await sandbox.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
