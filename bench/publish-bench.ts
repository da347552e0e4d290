/**
 * Publish benchmark: how close per-tenant pacing gets to the physical minimum time the Postato limit allows, next to
 * the loop Postato's staggered-publishing guide recommends, both against the in-process Postato sandbox on a
 * compressed window. Prints one line per tenant and path: ratio to floor((N−1)/L)·W, 429s, duplicates, lost rows.
 *
 * Run: npx tsx bench/publish-bench.ts [--rows N] [--tenants T] [--limit L] [--window-ms W] [--mode strict|lenient]
 *      [--drop-share S] [--concurrency C] [--path service|pacer]
 *
 * `--path service` (default) publishes through the real service's public API (product-path.ts); `--path pacer` drives
 * the pacer and PostatoClient directly (runPacedTenant below), which isolates pacing from the dispatcher and ledger.
 */
import { Command } from 'commander';
import { sleep, systemClock } from '../src/clock';
import { PostatoClient } from '../src/postato/postato-client';
import { PostatoError } from '../src/postato/postato-errors';
import { idempotencyKeyFor, tenantIdFor } from '../src/runs/idempotency-key';
import { createMemoryPacer, type PacerLimits, type TenantPacer } from '../src/pacing/tenant-pacer';
import { startPostatoSandbox, type PostatoSandbox } from '../src/sandbox/postato-sandbox';
import {
  bodyFor,
  hashJitterMs,
  makeRows,
  makeTenants,
  printResults,
  rowKeyOfText,
  type BenchRow,
  type BenchTenant,
  type TenantResult,
  newTenantResult,
} from './bench-rows';
import { runProductPath } from './product-path';
import { runStaggeredGuideLoop } from './staggered-guide-loop';

interface BenchOptions {
  rows: number;
  tenants: number;
  limit: number;
  windowMs: number;
  mode: 'strict' | 'lenient';
  dropShare: number;
  concurrency: number;
  path: 'service' | 'pacer';
}

const MAX_ATTEMPTS = 6;
/** Per-request timeout of the bench clients; also how long a paced slot may stay in flight. */
const CLIENT_TIMEOUT_MS = 5000;

/** The product's way for one tenant: paced workers, a key from the row and its exact body, replay on lost answers. */
async function runPacedTenant(o: {
  baseUrl: string;
  tenant: BenchTenant;
  rows: BenchRow[];
  pacer: TenantPacer;
  opts: BenchOptions;
}): Promise<TenantResult> {
  const { tenant, pacer, opts } = o;
  const client = new PostatoClient({
    baseUrl: o.baseUrl,
    apiKey: tenant.apiKey,
    timeoutMs: CLIENT_TIMEOUT_MS,
    retry: { maxAttempts: 1 },
  });
  const tenantId = tenantIdFor(tenant.apiKey);
  const result = newTenantResult('paced', tenant.name, o.rows.length, opts.limit, opts.windowMs);
  const queue = [...o.rows];
  const start = Date.now();
  let lastDone = start;

  const waitForSlot = async (): Promise<string> => {
    for (;;) {
      const r = await pacer.tryAcquire(tenantId, 'create');
      if (r.ok) return r.slot;
      await sleep(r.retryAtMs - systemClock.now());
    }
  };

  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      // The body is fixed before the first attempt (jitter from the row key), so every retry replays it exactly.
      const body = bodyFor(tenant, row, hashJitterMs(row.rowKey, 90_000));
      const key = idempotencyKeyFor({
        workspaceId: tenant.workspaceId,
        spreadsheetId: 'bench-sheet',
        rowKey: row.rowKey,
        body,
      });
      for (let attempt = 1; ;) {
        const slot = await waitForSlot();
        try {
          // As the publish step does: the send counts from its answer, which is no earlier than Postato's count.
          await client
            .createPost(tenant.workspaceId, body, key, { retry: { maxAttempts: 1 } })
            .finally(() => pacer.sent(tenantId, 'create', slot, systemClock.now()));
          result.created++;
          lastDone = Date.now();
          break;
        } catch (err) {
          if (!(err instanceof PostatoError)) throw err;
          if (err.code === 'rate_limited') {
            result.rateLimited++;
            await pacer.pause(tenantId, 'create', systemClock.now() + (err.retryAfterMs ?? 1000));
            continue;
          }
          if (err.code === 'idempotency_key_in_use') {
            await sleep(err.retryAfterMs ?? 1000);
            continue;
          }
          if (err.code === 'idempotency_key_reused') result.keyReused++;
          if (err.retryable && attempt < MAX_ATTEMPTS) {
            attempt++;
            await sleep(Math.min(1000, 20 * 2 ** attempt));
            continue;
          }
          result.unrecovered++;
          break;
        }
      }
    }
  };

  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  result.elapsedMs = lastDone - start;
  return result;
}

/** Fills in duplicates and the most creations the sandbox saw in one window, per tenant, from its inspection. */
function addSandboxFacts(sandbox: PostatoSandbox, tenants: BenchTenant[], results: TenantResult[]): void {
  const seen = sandbox.inspect();
  for (const t of tenants) {
    const posts = seen.posts.filter((p) => p.workspaceId === t.workspaceId);
    const perRow = new Map<string, number>();
    for (const p of posts) {
      const rowKey = rowKeyOfText(p.content[0]?.text);
      if (rowKey) perRow.set(rowKey, (perRow.get(rowKey) ?? 0) + 1);
    }
    const r = results.find((x) => x.tenant === t.name);
    if (!r) continue;
    r.duplicates = [...perRow.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    const tenantId = posts[0]?.tenantId;
    const facts = seen.tenants.find((x) => x.tenantId === tenantId);
    r.maxInWindow = facts?.maxCreatesInAnyWindow;
    // The sandbox's own count of 429s is authoritative (it also covers the service, which we cannot see into).
    if (facts) r.rateLimited = facts.counters.rateLimited;
  }
}

/** A few requests on a throwaway tenant first, so JIT compilation does not slow the first measured burst. */
async function warmUp(sandbox: PostatoSandbox, tenant: BenchTenant): Promise<void> {
  const client = new PostatoClient({ baseUrl: sandbox.url, apiKey: tenant.apiKey, retry: { maxAttempts: 1 } });
  for (const row of makeRows(20, Date.now())) {
    const body = bodyFor(tenant, row, 0);
    await client.createPost(tenant.workspaceId, body, `warm-${row.rowKey}`).catch(() => undefined);
  }
  sandbox.reset();
}

async function main(): Promise<void> {
  const cli = new Command()
    .option('--rows <n>', 'rows per tenant', '300')
    .option('--tenants <n>', 'tenants publishing at the same time', '2')
    .option('--limit <n>', 'creations allowed per window (L)', '120')
    .option('--window-ms <ms>', 'rolling window W in ms (60000 in production)', '20000')
    .option('--mode <mode>', 'sandbox idempotency mode: strict or lenient', 'strict')
    .option('--drop-share <share>', 'share of creates stored but answered with a dropped connection', '0.01')
    .option('--path <path>', 'service: through POST /v1/runs; pacer: pacer + client only', 'service')
    .option('--concurrency <n>', 'paced requests in flight per tenant (few: queued requests reach Postato late)', '8')
    .parse(process.argv);
  const raw = cli.opts<Record<string, string>>();
  const opts: BenchOptions = {
    rows: Number(raw.rows),
    tenants: Number(raw.tenants),
    limit: Number(raw.limit),
    windowMs: Number(raw.windowMs),
    mode: raw.mode === 'lenient' ? 'lenient' : 'strict',
    dropShare: Number(raw.dropShare),
    concurrency: Number(raw.concurrency),
    path: raw.path === 'pacer' ? 'pacer' : 'service',
  };
  for (const [k, v] of Object.entries(opts)) {
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0))
      throw new Error(`--${k} must be a non-negative number; got ${String(v)}`);
  }

  const limits: PacerLimits = {
    create: { limit: opts.limit, windowMs: opts.windowMs },
    write: { limit: opts.limit, windowMs: opts.windowMs },
    safetyMargin: 0.02,
    maxFlightMs: CLIENT_TIMEOUT_MS,
  };
  const pacedTenants = makeTenants(opts.tenants, 'paced');
  const guideTenants = makeTenants(opts.tenants, 'guide');
  const [warmTenant] = makeTenants(1, 'warmup') as [BenchTenant];
  const sandbox = await startPostatoSandbox({
    settings: {
      // Known accounts: the service checks a row's account against the workspace before it publishes.
      accounts: [...pacedTenants, ...guideTenants, warmTenant].map((t) => ({
        id: t.accountId,
        workspaceId: t.workspaceId,
        platform: 'twitter',
        username: t.name,
        status: 'connected' as const,
      })),
      idempotencyMode: opts.mode,
      limits: { create: opts.limit, write: opts.limit, read: 10 * opts.limit, windowMs: opts.windowMs },
      faults: { dropAfterStoreShare: opts.dropShare },
    },
  });
  console.log(
    `publish-bench: ${opts.tenants} tenant(s) × ${opts.rows} rows, limit ${opts.limit} per ${opts.windowMs} ms, ` +
      `idempotency ${opts.mode}, dropped answers ${(opts.dropShare * 100).toFixed(1)} %, measured path: ${opts.path}`,
  );
  try {
    const rows = makeRows(opts.rows, Date.now());
    const all: TenantResult[] = [];
    await warmUp(sandbox, warmTenant);

    // Both paths run at once against one sandbox, each with its own tenants: tenants are independent by design,
    // so this halves the wall time (and a paced tenant slowed by a guide-loop tenant would show up here).
    const pacer = createMemoryPacer({ limits, clock: systemClock });
    const [paced, guide] = await Promise.all([
      opts.path === 'service'
        ? runProductPath({
            sandbox,
            tenants: pacedTenants,
            rows,
            limit: opts.limit,
            windowMs: opts.windowMs,
            concurrency: opts.concurrency,
          })
        : Promise.all(
            pacedTenants.map((tenant) => runPacedTenant({ baseUrl: sandbox.url, tenant, rows, pacer, opts })),
          ),
      Promise.all(
        guideTenants.map((tenant) =>
          runStaggeredGuideLoop({ baseUrl: sandbox.url, tenant, rows, limit: opts.limit, windowMs: opts.windowMs }),
        ),
      ),
    ]);
    await pacer.close();
    addSandboxFacts(sandbox, pacedTenants, paced);
    addSandboxFacts(sandbox, guideTenants, guide);
    all.push(...paced, ...guide);

    printResults(all);
    console.log(
      'ratio = elapsed / floor((N−1)/L)·W; target for service/paced: ≤ 1.03 with zero 429s and zero duplicates.',
    );
  } finally {
    await sandbox.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
