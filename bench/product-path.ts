/**
 * The product path of publish-bench.ts: the real service (buildService on a temporary SQLite file, listening on
 * 127.0.0.1) publishes one generated sheet per tenant through its public API, POST /v1/runs then GET /v1/runs/:id,
 * against the sandbox. Elapsed time runs from the POST to the sandbox's createdAt of the tenant's last post.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunAccepted, RunRequest, RunStatusResponse } from '../appsscript/shared/contract';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/logger';
import type { PostatoSandbox } from '../src/sandbox/postato-sandbox';
import { buildService } from '../src/service';
import { SHEET_HEADER, sheetRowsFor, type BenchRow, type BenchTenant, type TenantResult } from './bench-rows';

/** Options of the product path. */
export interface ProductPathOptions {
  sandbox: PostatoSandbox;
  tenants: BenchTenant[];
  rows: BenchRow[];
  limit: number;
  windowMs: number;
  concurrency: number;
}

/** Publishes every tenant's sheet through the service at once and reports per tenant. */
export async function runProductPath(o: ProductPathOptions): Promise<TenantResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'publish-bench-'));
  const secret = randomBytes(16).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SHARED_SECRET: secret,
    POSTATO_API_URL: o.sandbox.url,
    POSTATO_TIMEOUT_MS: '5000',
    POSTATO_CREATE_LIMIT: String(o.limit),
    POSTATO_UPDATE_LIMIT: String(o.limit),
    POSTATO_WINDOW_MS: String(o.windowMs),
    DATABASE_URL: `sqlite:${join(dir, 'ledger.db')}`,
    DISPATCH_POLL_MS: '20',
    DISPATCH_LEASE_MS: '10000',
    DISPATCH_CONCURRENCY: String(o.concurrency * o.tenants.length),
    REQUESTS_PER_MINUTE: '100000',
    REQUESTS_PER_MINUTE_PER_ADDRESS: '100000',
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  });
  const service = await buildService(config, { logger: silentLogger });
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const headers = (tenant: BenchTenant) => ({
    'content-type': 'application/json',
    'X-Shared-Secret': secret,
    'X-User-Id': `bench-${tenant.name}`,
    'X-Postato-Api-Key': tenant.apiKey,
  });
  try {
    return await Promise.all(
      o.tenants.map(async (tenant) => {
        const body: RunRequest = {
          mode: 'publish',
          spreadsheetId: `bench-sheet-${tenant.name}`,
          sheetName: 'Posts',
          sheetId: 0,
          spreadsheetTimeZone: 'America/New_York',
          workspaceId: tenant.workspaceId,
          header: SHEET_HEADER,
          rows: sheetRowsFor(tenant, o.rows),
        };
        const start = Date.now();
        const res = await fetch(`${base}/v1/runs`, {
          method: 'POST',
          headers: headers(tenant),
          body: JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status !== 202) throw new Error(`POST /v1/runs answered ${res.status}: ${text.slice(0, 500)}`);
        const { runId } = JSON.parse(text) as RunAccepted;
        let status: RunStatusResponse;
        for (;;) {
          const s = await fetch(`${base}/v1/runs/${runId}`, { headers: headers(tenant) });
          status = (await s.json()) as RunStatusResponse;
          if (status.state !== 'queued' && status.state !== 'running') break;
          await new Promise((r) => setTimeout(r, 250));
        }
        const posts = o.sandbox.inspect().posts.filter((p) => p.workspaceId === tenant.workspaceId);
        const last = Math.max(start, ...posts.map((p) => Date.parse(p.createdAt)));
        return {
          path: 'service',
          tenant: tenant.name,
          rows: o.rows.length,
          limit: o.limit,
          windowMs: o.windowMs,
          elapsedMs: last - start,
          created: posts.length,
          rateLimited: 0, // filled in from the sandbox's counters by the caller
          duplicates: 0,
          unrecovered: status.counts.total - status.counts.created,
          keyReused: 0,
        } satisfies TenantResult;
      }),
    );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
