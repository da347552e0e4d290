/**
 * Tier benchmark: the same publish (T tenants × N rows, at once) on the embedded tier (SQLite, in-process dispatcher)
 * and on the scale-out tier (PostgreSQL, BullMQ + Redis, K service instances in this process), against the sandbox on a
 * compressed window. Prints per tenant and tier: the ratio of the time to create N to floor((N−1)/L)·W, 429s, duplicates.
 *
 * Run: npx tsx bench/tiers-bench.ts [--rows N] [--tenants T] [--limit L] [--window-ms W] [--instances K] [--concurrency C]
 * Needs PostgreSQL and Redis on 127.0.0.1 for the scale-out tier (`.ci/run` starts them); the database and the Redis
 * keys it creates are removed at the end.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import type { RunAccepted, RunRequest, RunStatusResponse } from '../appsscript/shared/contract';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/logger';
import { startPostatoSandbox } from '../src/sandbox/postato-sandbox';
import { buildService, type Service } from '../src/service';
import type { BullmqDispatcherStats } from '../src/runs/bullmq-dispatcher';
import { openTestTier, type TierName } from '../test/contract/tier-kit';
import {
  SHEET_HEADER,
  makeRows,
  makeTenants,
  printResults,
  rowKeyOfText,
  sheetRowsFor,
  type BenchTenant,
  type TenantResult,
} from './bench-rows';

interface BullmqStatsSource {
  stats(): BullmqDispatcherStats;
}

interface Options {
  rows: number;
  tenants: number;
  limit: number;
  windowMs: number;
  instances: number;
  concurrency: number;
}

async function runTier(name: TierName, o: Options): Promise<TenantResult[]> {
  const tier = await openTestTier(name);
  const tenants = makeTenants(o.tenants, name === 'embedded' ? 'E' : 'S');
  const sandbox = await startPostatoSandbox({
    settings: {
      accounts: tenants.map((t) => ({
        id: t.accountId,
        workspaceId: t.workspaceId,
        platform: 'twitter',
        username: t.name,
        status: 'connected' as const,
      })),
      limits: { create: o.limit, write: o.limit, read: 100_000, windowMs: o.windowMs },
    },
    tickIntervalMs: 0,
  });
  const secret = randomBytes(16).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SHARED_SECRET: secret,
    POSTATO_API_URL: sandbox.url,
    POSTATO_TIMEOUT_MS: '5000',
    POSTATO_CREATE_LIMIT: String(o.limit),
    POSTATO_UPDATE_LIMIT: String(o.limit),
    POSTATO_WINDOW_MS: String(o.windowMs),
    DISPATCH_POLL_MS: '20',
    DISPATCH_LEASE_MS: '10000',
    DISPATCH_CONCURRENCY: String(o.concurrency),
    REQUESTS_PER_MINUTE: '100000',
    REQUESTS_PER_MINUTE_PER_ADDRESS: '100000',
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...tier.env,
  });
  const count = name === 'embedded' ? 1 : o.instances;
  const services: Service[] = [];
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) services.push(await buildService(config, { logger: silentLogger }));
    const bases = await Promise.all(
      services.map(async (s) => {
        const server = s.app.listen(0, '127.0.0.1');
        servers.push(server);
        await new Promise<void>((resolve) => server.once('listening', () => resolve()));
        return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      }),
    );
    const rows = makeRows(o.rows, Date.now());
    const headers = (t: BenchTenant) => ({
      'content-type': 'application/json',
      'X-Shared-Secret': secret,
      'X-User-Id': `bench-${t.name}`,
      'X-Postato-Api-Key': t.apiKey,
    });
    const results = await Promise.all(
      tenants.map(async (tenant, i) => {
        const base = bases[i % bases.length]!;
        const body: RunRequest = {
          mode: 'publish',
          spreadsheetId: `bench-${name}-${tenant.name}`,
          sheetName: 'Posts',
          sheetId: 0,
          spreadsheetTimeZone: 'America/New_York',
          workspaceId: tenant.workspaceId,
          header: SHEET_HEADER,
          rows: sheetRowsFor(tenant, rows),
        };
        const start = Date.now();
        const res = await fetch(`${base}/v1/runs`, {
          method: 'POST',
          headers: headers(tenant),
          body: JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status !== 202) throw new Error(`POST /v1/runs answered ${res.status}: ${text.slice(0, 300)}`);
        const { runId } = JSON.parse(text) as RunAccepted;
        let status: RunStatusResponse;
        for (;;) {
          status = (await (
            await fetch(`${base}/v1/runs/${runId}`, { headers: headers(tenant) })
          ).json()) as RunStatusResponse;
          if (status.state !== 'queued' && status.state !== 'running') break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const inspection = sandbox.inspect();
        const posts = inspection.posts.filter((p) => p.workspaceId === tenant.workspaceId);
        const keys = new Set(posts.map((p) => rowKeyOfText(p.content[0]?.text)));
        const tenantId = posts[0]?.tenantId;
        const counters = inspection.tenants.find((t) => t.tenantId === tenantId);
        return {
          path: `${name}${count > 1 ? `×${count}` : ''}`,
          tenant: tenant.name,
          rows: o.rows,
          limit: o.limit,
          windowMs: o.windowMs,
          elapsedMs: Math.max(start, ...posts.map((p) => Date.parse(p.createdAt))) - start,
          created: posts.length,
          rateLimited: counters?.counters.rateLimited ?? 0,
          duplicates: posts.length - keys.size,
          unrecovered: status.counts.total - status.counts.created,
          keyReused: 0,
          maxInWindow: counters?.maxCreatesInAnyWindow,
        } satisfies TenantResult;
      }),
    );
    for (const [i, s] of services.entries()) {
      const d = s.dispatcher as Partial<BullmqStatsSource>;
      if (d.stats)
        console.log(
          `${name} instance ${i + 1}: ${JSON.stringify(d.stats())} (jobs picked up, rows stepped, jobs re-delayed)`,
        );
    }
    return results;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of services) await s.close();
    await sandbox.close();
    await tier.cleanup();
  }
}

async function main(): Promise<void> {
  const cmd = new Command()
    .option('--rows <n>', 'rows per tenant', '300')
    .option('--tenants <n>', 'tenants publishing at once', '3')
    .option('--limit <n>', 'creations per window (sandbox and service)', '60')
    .option('--window-ms <n>', 'rolling window in ms', '1000')
    .option('--instances <n>', 'service instances on the scale-out tier', '2')
    .option('--concurrency <n>', 'DISPATCH_CONCURRENCY of each instance', '8')
    .parse();
  const raw = cmd.opts<Record<string, string>>();
  const o: Options = {
    rows: Number(raw.rows),
    tenants: Number(raw.tenants),
    limit: Number(raw.limit),
    windowMs: Number(raw.windowMs),
    instances: Number(raw.instances),
    concurrency: Number(raw.concurrency),
  };
  console.log(
    `tiers bench: ${o.tenants} tenants × ${o.rows} rows, limit ${o.limit} per ${o.windowMs} ms, scale-out with ${o.instances} instances`,
  );
  const results = [...(await runTier('embedded', o)), ...(await runTier('scale-out', o))];
  printResults(results);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
