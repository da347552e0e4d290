/**
 * Load benchmark (issue 13): K tenants × N rows publishing at once through the service running as separate processes,
 * on the embedded tier (one instance) and on the scale-out tier (PostgreSQL + Redis, 1 and 3 instances), against the
 * Postato sandbox with a set latency and the Sheets fake (write-back on, Google's 60 requests per minute per user).
 * Prints per configuration: each tenant's time to create N as a ratio to floor((N−1)/L)·W (median and worst),
 * aggregate creations/s, 429s, duplicates, peak RSS of the service processes, CPU ms per creation of each service
 * process and of this process (it hosts the sandbox and the fake; load-independent, unlike creations/s on a shared
 * machine), Sheets requests per 1,000 rows and how long each sheet waited for its results; then those figures against
 * the issue's targets. Never pass/fail.
 *
 * Run: npx tsx bench/load-bench.ts [--tenants K] [--rows N] [--latency-ms 150] [--window-ms 60000] [--limit 120]
 *      [--tiers embedded,scale-out] [--instances 1,3] [--concurrency C] [--tenant-concurrency T]
 *      [--sheets-window-ms 60000] [--entry auto] [--cpu-prof-dir DIR]
 * The issue's two measurements (build first: npm run build):
 *   per-tenant ratio, production window, embedded:
 *     npx tsx bench/load-bench.ts --entry dist --tenants 100 --rows 300 --latency-ms 150 --window-ms 60000 --tiers embedded
 *   aggregate rate at a compressed window (saturates an instance), embedded and scale-out with 1 and 3 instances:
 *     npx tsx bench/load-bench.ts --entry dist --tenants 50 --rows 120 --latency-ms 150 --window-ms 2000 \
 *       --sheets-window-ms 2000 --tiers embedded,scale-out --instances 1,3
 *   scale-out ×3 against ×1 under a load that saturates one instance by its I/O pool (DISPATCH_CONCURRENCY calls in
 *   flight, each ≥ the latency: ≤ 8 / 1 s = 8 creations/s per instance), not by the CPU, which on a 2-core machine
 *   shared by every instance, PostgreSQL, Redis and this process three instances cannot add to:
 *     npx tsx bench/load-bench.ts --entry dist --tenants 24 --rows 40 --latency-ms 1000 --window-ms 2000 \
 *       --sheets-window-ms 2000 --tiers scale-out --instances 1,3 --concurrency 8
 *   memory with 100 tenants × 5,000 rows queued (the runs stay queued and paced; read "peak RSS MB"; 100 requests of
 *   5,000 rows at once keep a 2-core service busy past its HTTP timeouts, which it takes from the environment):
 *     HTTP_REQUEST_TIMEOUT_MS=900000 HTTP_HEADERS_TIMEOUT_MS=900000 npx tsx bench/load-bench.ts \
 *       --entry dist --tenants 100 --rows 5000 --window-ms 60000 --tiers embedded --timeout-s 60 --writeback-timeout-s 1
 * Needs PostgreSQL and Redis on 127.0.0.1 for the scale-out tier (`.ci/run` starts them); the database and the Redis
 * keys it creates are removed at the end. `--entry dist` runs `node dist/src/index.js` (run `npm run build` first);
 * `auto` does so when the build is newer than every file in src/, else runs the source under tsx. `--cpu-prof-dir`
 * makes each service process write a V8 CPU profile (.cpuprofile) there when it exits.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import type { RunAccepted, RunRequest, RunStatusResponse } from '../appsscript/shared/contract';
import { startPostatoSandbox, type PostatoSandbox } from '../src/sandbox/postato-sandbox';
import { startSheetsFake, type SheetsFake } from '../src/sandbox/sheets-fake';
import { fetchSender, proveSheetAccess } from '../src/sandbox/sheets-fake-proof';
import { openTestTier, type TierName } from '../test/contract/tier-kit';
import {
  startServiceProcess,
  stopServiceProcess,
  type ServiceEntry,
  type ServiceProcess,
} from '../test/integration/service-process';
import { makeFakeServiceAccount, withTokenUri } from '../test/sheets/fake-service-account';
import {
  SHEET_HEADER,
  makeRows,
  makeTenants,
  physicalMinimumMs,
  rowKeyOfText,
  sheetRowsFor,
  type BenchRow,
  type BenchTenant,
} from './bench-rows';

const ROOT = resolve(__dirname, '..');
const SHEET = 'Posts';

interface Options {
  tenants: number;
  rows: number;
  latencyMs: number;
  windowMs: number;
  limit: number;
  tiers: TierName[];
  instances: number[];
  concurrency?: number;
  tenantConcurrency?: number;
  sheetsWindowMs: number;
  entry: ServiceEntry;
  timeoutS: number;
  writebackTimeoutS: number;
  cpuProfDir?: string;
  /** Extra node flags for every service process (e.g. a V8 heap setting to compare). */
  nodeArgs: string[];
  /** Writes each tenant's start and creation times (ms from the first start) to this JSON file, for analysis. */
  timelineFile?: string;
}

/** One tenant's outcome in one configuration. */
interface TenantOutcome {
  ratio: number;
  created: number;
  duplicates: number;
  rateLimited: number;
  unfinished: number;
  lastCreatedAt: number;
  /** Ms from the tenant's last creation until its sheet showed every Post ID (undefined: never within the wait). */
  sheetLagMs?: number;
}

/** What one configuration (tier × instances) measured. */
interface ConfigOutcome {
  label: string;
  tenants: TenantOutcome[];
  creationsPerSecond: number;
  /** Creations per second from the first creation to the last (the dispatch alone, without accepting the runs). */
  dispatchPerSecond: number;
  /** Instances of the service in this configuration. */
  instances: number;
  peakRssMb: number[];
  /** CPU ms per creation over the publishing phase: each service process, and this process (sandbox, fake, polls). */
  serviceCpuMsPerCreation: number[];
  /** CPU cores each service process used on average over the publishing phase (1 = one core all the time). */
  serviceCores: number[];
  benchCpuMsPerCreation: number;
  sheets: ReturnType<SheetsFake['stats']>;
  rows: number;
}

/** Median of the finite values (NaN marks a tenant that did not finish). */
const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Peak resident set size of a process in MB (Linux /proc VmHWM), or NaN where it cannot be read. */
function peakRssMb(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
function processCpuMs(pid: number | undefined): number {
  try {
    // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15, counted after its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** CPU time this process has used so far, in ms. */
function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The newest modification time of any file below a folder. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** `auto`: the build when it is newer than the source (a stale build would measure old code), else tsx. */
function chooseEntry(wanted: string): ServiceEntry {
  if (wanted === 'tsx' || wanted === 'dist') return wanted;
  try {
    return statSync(join(ROOT, 'dist/src/index.js')).mtimeMs > newestMtime(join(ROOT, 'src')) ? 'dist' : 'tsx';
  } catch {
    return 'tsx';
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One status poll; a connection the service closed as idle just as it was reused is asked again (twice at most). */
async function runStatus(url: string, headers: Record<string, string>): Promise<RunStatusResponse> {
  for (let attempt = 0; ; attempt++) {
    let s: Response;
    try {
      s = await fetch(url, { headers });
    } catch (err) {
      if (attempt >= 2) throw err;
      await pause(200);
      continue;
    }
    if (s.status !== 200) throw new Error(`GET ${new URL(url).pathname} answered ${s.status}: ${await s.text()}`);
    return (await s.json()) as RunStatusResponse;
  }
}

/** The sheet of a tenant in the Sheets fake: the same rows the run request carries. */
function loadSheet(fake: SheetsFake, spreadsheetId: string, tenant: BenchTenant, rows: BenchRow[]): void {
  const cells = [SHEET_HEADER, ...sheetRowsFor(tenant, rows).map((r) => r.values.map(String))];
  fake.loadCsv(spreadsheetId, SHEET, cells.map((r) => r.join(',')).join('\n') + '\n');
}

/** Whether every data row of a sheet shows a Post ID. */
function sheetComplete(fake: SheetsFake, spreadsheetId: string): boolean {
  const [header = [], ...data] = fake.getValues(spreadsheetId, SHEET);
  const col = header.indexOf('Post ID');
  return col >= 0 && data.every((r) => (r[col] ?? '') !== '');
}

async function runConfig(tierName: TierName, instanceCount: number, o: Options): Promise<ConfigOutcome> {
  const label = tierName === 'embedded' ? 'embedded' : `scale-out×${instanceCount}`;
  const tier = await openTestTier(tierName);
  const tenants = makeTenants(o.tenants, tierName === 'embedded' ? 'E' : `S${instanceCount}x`);
  const sandbox: PostatoSandbox = await startPostatoSandbox({
    settings: {
      accounts: tenants.map((t) => ({
        id: t.accountId,
        workspaceId: t.workspaceId,
        platform: 'twitter',
        username: t.name,
        status: 'connected' as const,
      })),
      limits: { create: o.limit, write: o.limit, read: 100_000, windowMs: o.windowMs },
      faults: { latencyMs: o.latencyMs },
    },
    tickIntervalMs: 0,
  });
  const sa = makeFakeServiceAccount();
  const fake = await startSheetsFake({ serviceAccountPublicKey: sa.publicKeyPem, windowMs: o.sheetsWindowMs });
  const rows = makeRows(o.rows, Date.now());
  const sheetId = (t: BenchTenant) => `load-${label.replace(/[^A-Za-z0-9_-]/g, '-')}-${t.name}`;
  for (const t of tenants) loadSheet(fake, sheetId(t), t, rows);

  const secret = randomBytes(16).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    AUTH_SHARED_SECRET: secret,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    POSTATO_API_URL: sandbox.url,
    POSTATO_CREATE_LIMIT: String(o.limit),
    POSTATO_UPDATE_LIMIT: String(o.limit),
    POSTATO_WINDOW_MS: String(o.windowMs),
    REQUESTS_PER_MINUTE: '1000000',
    // Every bench tenant calls from the one loopback address, unlike real add-on users.
    REQUESTS_PER_MINUTE_PER_ADDRESS: '1000000',
    MAX_ROWS_PER_RUN: String(Math.max(5000, o.rows)),
    SHEETS_API_URL: fake.url,
    GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(withTokenUri(sa, fake.tokenUrl)),
    SHEETS_WRITE_WINDOW_MS: String(o.sheetsWindowMs),
    ...(o.concurrency ? { DISPATCH_CONCURRENCY: String(o.concurrency) } : {}),
    ...(o.tenantConcurrency ? { DISPATCH_TENANT_CONCURRENCY: String(o.tenantConcurrency) } : {}),
    ...tier.env,
  };
  const services: ServiceProcess[] = [];
  let stopping = false;
  try {
    // The first instance migrates the fresh database; the others start on the migrated schema.
    const nodeArgs = [...o.nodeArgs, ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [])];
    services.push(await startServiceProcess(env, o.entry, nodeArgs));
    for (let i = 1; i < instanceCount; i++) services.push(await startServiceProcess(env, o.entry, nodeArgs));
    // A service that dies mid-run says why (the bench would otherwise only see its connections close).
    for (const [i, s] of services.entries()) {
      let tail = '';
      s.proc.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-2000)));
      s.proc.on('exit', (code, signal) => {
        if (!stopping) console.error(`  instance ${i + 1} exited (${signal ?? code}): ${tail}`);
      });
    }
    const headers = (t: BenchTenant) => ({
      'content-type': 'application/json',
      'X-Shared-Secret': secret,
      'X-User-Id': `bench-${t.name}`,
      'X-Postato-Api-Key': t.apiKey,
    });
    const deadline = Date.now() + o.timeoutS * 1000;
    const cpuBefore = services.map((s) => processCpuMs(s.proc.pid));
    const benchCpuBefore = ownCpuMs();
    const firstStart = Date.now();
    const runs = await Promise.all(
      tenants.map(async (tenant, i) => {
        const base = services[i % services.length]!.url;
        const body: RunRequest = {
          mode: 'publish',
          spreadsheetId: sheetId(tenant),
          sheetName: SHEET,
          sheetId: 0,
          spreadsheetTimeZone: 'America/New_York',
          workspaceId: tenant.workspaceId,
          header: SHEET_HEADER,
          rows: sheetRowsFor(tenant, rows),
        };
        // As the add-on does: prove edit access to the spreadsheet before the service may write into it (one editor per tenant,
        // as each agency client has its own; Google limits each user to 60 writes a minute).
        await proveSheetAccess(
          fetchSender(base, headers(tenant)),
          fake,
          sheetId(tenant),
          `editor-${tenant.name}@example.com`,
        );
        const start = Date.now();
        const res = await fetch(`${base}/v1/runs`, {
          method: 'POST',
          headers: headers(tenant),
          body: JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status !== 202) throw new Error(`POST /v1/runs answered ${res.status}: ${text.slice(0, 300)}`);
        const accepted = Date.now();
        const { runId } = JSON.parse(text) as RunAccepted;
        // Follow the run with a cursor, as the sidebar does, but ask the service only when an answer can matter: the
        // ratio comes from the sandbox's creation times, so the bench waits in-process until the sandbox holds every
        // row of the tenant, then asks each second until the run ends; meanwhile one question every 10 s notices a run
        // that ends with rows unfinished. (Asking for every tenant every 2 s cost this process and the service CPU
        // that the creations then lacked.)
        let cursor = '0';
        let status: RunStatusResponse;
        let askedAt = Date.now();
        for (;;) {
          const allCreated = sandbox.createdIn(tenant.workspaceId) >= o.rows;
          if (!allCreated && Date.now() - askedAt < 10_000 && Date.now() < deadline) {
            await pause(1000);
            continue;
          }
          askedAt = Date.now();
          status = await runStatus(`${base}/v1/runs/${runId}?since=${cursor}`, headers(tenant));
          cursor = status.cursor;
          if (status.state !== 'queued' && status.state !== 'running') break;
          if (Date.now() > deadline) break;
          if (allCreated) await pause(1000);
        }
        return { tenant, start, accepted, unfinished: status.counts.total - status.counts.created };
      }),
    );

    const cpuAfter = services.map((s) => processCpuMs(s.proc.pid));
    const phaseEnd = Date.now();
    const benchCpuMs = ownCpuMs() - benchCpuBefore;

    const inspection = sandbox.inspect();
    const lastCreated = new Map<string, number>();
    const outcomes = new Map<string, TenantOutcome>();
    for (const { tenant, start, unfinished } of runs) {
      const posts = inspection.posts.filter((p) => p.workspaceId === tenant.workspaceId);
      const keys = new Set(posts.map((p) => rowKeyOfText(p.content[0]?.text)));
      const counters = inspection.tenants.find((t) => t.tenantId === posts[0]?.tenantId);
      const last = Math.max(start, ...posts.map((p) => Date.parse(p.createdAt)));
      lastCreated.set(tenant.name, last);
      const min = physicalMinimumMs(o.rows, o.limit, o.windowMs);
      outcomes.set(tenant.name, {
        // A tenant whose rows did not all get created has no time to compare (counted under unfinished).
        ratio: min > 0 && posts.length >= o.rows ? (last - start) / min : NaN,
        created: posts.length,
        duplicates: posts.length - keys.size,
        rateLimited: counters?.counters.rateLimited ?? 0,
        unfinished,
        lastCreatedAt: last,
      });
    }
    if (o.timelineFile) {
      const timeline = runs.map(({ tenant, start, accepted }) => ({
        tenant: tenant.name,
        start: start - firstStart,
        accepted: accepted - firstStart,
        created: inspection.posts
          .filter((p) => p.workspaceId === tenant.workspaceId)
          .map((p) => Date.parse(p.createdAt) - firstStart)
          .sort((a, b) => a - b),
      }));
      writeFileSync(o.timelineFile, JSON.stringify({ label, limit: o.limit, windowMs: o.windowMs, timeline }));
    }
    const allLast = Math.max(...[...lastCreated.values()]);
    const firstCreated = Math.min(...inspection.posts.map((p) => Date.parse(p.createdAt)));
    const publishingMs = Math.max(1, phaseEnd - firstStart);
    const created = [...outcomes.values()].reduce((n, t) => n + t.created, 0);

    // Wait (at most writebackTimeoutS) until every sheet shows every Post ID, checking once a second.
    const wbDeadline = Date.now() + o.writebackTimeoutS * 1000;
    const waiting = new Set(tenants);
    while (waiting.size && Date.now() < wbDeadline) {
      for (const t of [...waiting]) {
        if (!sheetComplete(fake, sheetId(t))) continue;
        const out = outcomes.get(t.name)!;
        out.sheetLagMs = Math.max(0, Date.now() - out.lastCreatedAt);
        waiting.delete(t);
      }
      if (waiting.size) await new Promise((r) => setTimeout(r, 1000));
    }
    // Let the last flush finish its bookkeeping, then read the peak memory before the processes exit.
    const peaks = services.map((s) => peakRssMb(s.proc.pid));
    return {
      label,
      tenants: [...outcomes.values()],
      creationsPerSecond: created / Math.max(0.001, (allLast - firstStart) / 1000),
      dispatchPerSecond: (created - 1) / Math.max(0.001, (allLast - firstCreated) / 1000),
      instances: instanceCount,
      peakRssMb: peaks,
      serviceCpuMsPerCreation: services.map((_, i) => (cpuAfter[i]! - cpuBefore[i]!) / Math.max(1, created)),
      serviceCores: services.map((_, i) => (cpuAfter[i]! - cpuBefore[i]!) / publishingMs),
      benchCpuMsPerCreation: benchCpuMs / Math.max(1, created),
      // The service account's requests only: the editors' proof-of-access metadata writes are the add-on's, per user.
      sheets: fake.stats(sa.email),
      rows: o.tenants * o.rows,
    };
  } finally {
    stopping = true;
    await Promise.all(
      services.map(async (s) => {
        // A process writing its CPU profile at exit needs longer than a clean shutdown does.
        const killer = setTimeout(() => s.proc.kill('SIGKILL'), o.cpuProfDir ? 180_000 : 20_000);
        const stopAt = Date.now();
        await stopServiceProcess(s, 'SIGTERM');
        clearTimeout(killer);
        const stopMs = Date.now() - stopAt;
        if (stopMs > 5_000) console.log(`  an instance took ${(stopMs / 1000).toFixed(1)} s to stop`);
      }),
    );
    await fake.close();
    await sandbox.close();
    await tier.cleanup();
  }
}

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : '?');
/** Largest of the values; NaN when one is NaN (a tenant that did not finish has no finite worst). */
const worstOf = (xs: number[]): number => (xs.some((x) => Number.isNaN(x)) ? NaN : Math.max(...xs));

function printOutcomes(outcomes: ConfigOutcome[], o: Options): void {
  const header = [
    'config',
    'ratio med',
    'ratio worst',
    'creations/s',
    'first→last creation/s',
    '429s',
    'dupes',
    'unfinished',
    'peak RSS MB',
    'CPU ms/creation service',
    'cores used service',
    'CPU ms/creation bench',
    'Sheets req/1k rows',
    'reads',
    'writes',
    'Sheets 429s',
    'max r/w per Sheets window',
    'sheet lag med s',
    'sheet lag worst s',
  ];
  const lines = outcomes.map((c) => {
    const t = c.tenants;
    const lags = t.map((x) => x.sheetLagMs ?? NaN);
    const lagWorst = lags.some((l) => Number.isNaN(l)) ? NaN : Math.max(...lags);
    return [
      c.label,
      fmt(median(t.map((x) => x.ratio)), 3),
      fmt(worstOf(t.map((x) => x.ratio)), 3),
      fmt(c.creationsPerSecond, 0),
      fmt(c.dispatchPerSecond, 0),
      String(t.reduce((n, x) => n + x.rateLimited, 0)),
      String(t.reduce((n, x) => n + x.duplicates, 0)),
      String(t.reduce((n, x) => n + x.unfinished, 0)),
      c.peakRssMb.map((m) => fmt(m, 0)).join('+'),
      c.serviceCpuMsPerCreation.map((m) => fmt(m, 2)).join('+'),
      c.serviceCores.map((m) => fmt(m, 2)).join('+'),
      fmt(c.benchCpuMsPerCreation, 2),
      fmt(((c.sheets.reads + c.sheets.writes) / c.rows) * 1000, 1),
      String(c.sheets.reads),
      String(c.sheets.writes),
      String(c.sheets.rejected429),
      `${c.sheets.maxReadsInAnyMinute}/${c.sheets.maxWritesInAnyMinute}`,
      fmt(median(lags.filter((l) => !Number.isNaN(l))) / 1000, 1),
      Number.isNaN(lagWorst) ? `>${o.writebackTimeoutS}` : fmt(lagWorst / 1000, 1),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(row(header));
  for (const l of lines) console.log(row(l));

  // The issue's targets as value / target; nothing here passes or fails.
  console.log('\nagainst the targets of issue 13 (value / target):');
  const bound = ioBound(o);
  for (const c of outcomes) {
    const med = median(c.tenants.map((x) => x.ratio));
    const worst = worstOf(c.tenants.map((x) => x.ratio));
    const perK = ((c.sheets.reads + c.sheets.writes) / c.rows) * 1000;
    const lagS = Math.max(...c.tenants.map((x) => x.sheetLagMs ?? Infinity)) / 1000;
    const rate =
      c.label === 'embedded'
        ? `creations/s ${fmt(c.creationsPerSecond, 0)} / 500 = ${fmt(c.creationsPerSecond / 500)} (≥ 1 meets it; ` +
          `target for one instance at a compressed window)`
        : `creations/s ${fmt(c.creationsPerSecond, 0)} (first to last creation ${fmt(c.dispatchPerSecond, 0)}) / ` +
          `I/O bound ${fmt(bound * c.instances, 0)} = ${fmt(c.dispatchPerSecond / (bound * c.instances))}; CPU ms per ` +
          `creation ${c.serviceCpuMsPerCreation.map((m) => fmt(m, 2)).join(' + ')}, cores used ` +
          `${c.serviceCores.map((m) => fmt(m, 2)).join(' + ')}`;
    console.log(
      `  ${c.label}: ratio median ${fmt(med, 3)} / 1.05 = ${fmt(med / 1.05)}, worst ${fmt(worst, 3)} / 1.10 = ` +
        `${fmt(worst / 1.1)} (≤ 1 meets it; targets for 100 × 300 at the 60 s window); ${rate}; Sheets requests per ` +
        `1,000 rows ${fmt(perK, 1)} / 25 = ${fmt(perK / 25)}; worst sheet lag ${fmt(lagS, 1)} s / 60 s = ` +
        `${fmt(lagS / 60)} (≤ 1 meets them)`,
    );
  }
  const one = outcomes.find((c) => c.label === 'scale-out×1');
  const three = outcomes.find((c) => c.label === 'scale-out×3');
  if (one && three) {
    const ratio = three.creationsPerSecond / one.creationsPerSecond;
    const dispatchRatio = three.dispatchPerSecond / one.dispatchPerSecond;
    console.log(
      `  scale-out×3 / scale-out×1 creations/s: ${fmt(ratio)} / 2.5 = ${fmt(ratio / 2.5)}; first to last creation ` +
        `${fmt(dispatchRatio)} / 2.5 = ${fmt(dispatchRatio / 2.5)} (≥ 1 meets it, under a load that saturates one ` +
        `instance: ×1 reached ${fmt(one.dispatchPerSecond / bound)} of its I/O bound using ` +
        `${fmt(one.serviceCores[0] ?? NaN)} cores)`,
    );
  }
}

/**
 * What one instance can do when its I/O pool, not the CPU, is the limit: DISPATCH_CONCURRENCY calls at once, each
 * taking at least the sandbox's latency, so at most concurrency / latency creations per second (the product default
 * concurrency is 256).
 */
function ioBound(o: Pick<Options, 'concurrency' | 'latencyMs'>): number {
  return ((o.concurrency ?? 256) * 1000) / Math.max(1, o.latencyMs);
}

async function main(): Promise<void> {
  const cmd = new Command()
    .option('--tenants <k>', 'tenants publishing at once', '100')
    .option('--rows <n>', 'rows per tenant', '300')
    .option('--latency-ms <ms>', 'latency of every sandbox answer', '150')
    .option('--window-ms <ms>', "Postato's rolling window (sandbox and service)", '60000')
    .option('--limit <l>', 'creations per window per tenant', '120')
    .option('--tiers <list>', 'embedded, scale-out or both', 'embedded,scale-out')
    .option('--instances <list>', 'instance counts of the scale-out tier', '1,3')
    .option('--concurrency <c>', 'DISPATCH_CONCURRENCY of each instance (default: the product default)')
    .option('--tenant-concurrency <t>', 'DISPATCH_TENANT_CONCURRENCY of each instance (default: the product default)')
    .option('--sheets-window-ms <ms>', 'the Sheets quota window of the fake and the service', '60000')
    .option('--entry <how>', 'auto, dist (node dist/src/index.js) or tsx', 'auto')
    .option('--timeout-s <s>', 'stop following runs after this long', '')
    .option('--writeback-timeout-s <s>', 'stop waiting for the sheets after this long', '180')
    .option('--cpu-prof-dir <dir>', 'each service process writes a V8 CPU profile into this folder when it exits')
    .option('--node-args <flags>', 'extra node flags for the service processes, space-separated', '')
    .option('--timeline <file>', "write each tenant's start and creation times to this JSON file")
    .parse();
  const raw = cmd.opts<Record<string, string | undefined>>();
  const windowMs = Number(raw.windowMs);
  const rows = Number(raw.rows);
  const limit = Number(raw.limit);
  const o: Options = {
    tenants: Number(raw.tenants),
    rows,
    latencyMs: Number(raw.latencyMs),
    windowMs,
    limit,
    tiers: String(raw.tiers)
      .split(',')
      .map((s) => s.trim())
      .filter((s): s is TierName => s === 'embedded' || s === 'scale-out'),
    instances: String(raw.instances)
      .split(',')
      .map(Number)
      .filter((n) => n >= 1),
    concurrency: raw.concurrency ? Number(raw.concurrency) : undefined,
    tenantConcurrency: raw.tenantConcurrency ? Number(raw.tenantConcurrency) : undefined,
    sheetsWindowMs: Number(raw.sheetsWindowMs),
    entry: chooseEntry(String(raw.entry)),
    timeoutS: raw.timeoutS
      ? Number(raw.timeoutS)
      : Math.ceil((3 * physicalMinimumMs(rows, limit, windowMs)) / 1000) + 120,
    writebackTimeoutS: Number(raw.writebackTimeoutS),
    cpuProfDir: raw.cpuProfDir ? resolve(raw.cpuProfDir) : undefined,
    timelineFile: raw.timeline ? resolve(raw.timeline) : undefined,
    nodeArgs: String(raw.nodeArgs ?? '')
      .split(' ')
      .filter((a) => a.length > 0),
  };
  console.log(
    `load bench: ${o.tenants} tenants × ${o.rows} rows, limit ${o.limit} per ${o.windowMs} ms, Postato latency ` +
      `${o.latencyMs} ms, Sheets window ${o.sheetsWindowMs} ms, service as ${o.entry === 'dist' ? 'node dist/src/index.js' : 'src/index.ts under tsx'}` +
      `${o.concurrency ? `, DISPATCH_CONCURRENCY ${o.concurrency}` : ''}` +
      `${o.tenantConcurrency ? `, DISPATCH_TENANT_CONCURRENCY ${o.tenantConcurrency}` : ''}; physical minimum per tenant ` +
      `${physicalMinimumMs(o.rows, o.limit, o.windowMs)} ms`,
  );
  // What saturates one instance: its pool of calls in flight (I/O) or the CPU. Scaling out can only show N × on a
  // machine with cores to spare, so the scale-out comparison is meaningful when the I/O bound is the lower one.
  const postatoBound = (o.tenants * o.limit * 1000) / o.windowMs;
  console.log(
    `saturation: one instance sends at most DISPATCH_CONCURRENCY ${o.concurrency ?? 256} calls at once, each ≥ ` +
      `${o.latencyMs} ms, so ≤ ${fmt(ioBound(o), 0)} creations/s (its I/O bound; N instances N ×); Postato allows ` +
      `${fmt(postatoBound, 0)}/s over all tenants. An instance reaches its I/O bound only while its CPU keeps up ` +
      `(bound × CPU ms per creation, printed below, well under 1,000 ms per second of one core); otherwise the CPU ` +
      `saturates it, and with every instance, PostgreSQL, Redis and this process on the same cores, more instances ` +
      `cannot add CPU: then ×3 shows no gain.`,
  );
  const outcomes: ConfigOutcome[] = [];
  for (const tier of o.tiers) {
    for (const n of tier === 'embedded' ? [1] : o.instances) {
      const c = await runConfig(tier, n, o);
      console.error(`  ${c.label} done`);
      outcomes.push(c);
    }
  }
  printOutcomes(outcomes, o);
}

main().catch((err) => {
  const cause = err instanceof Error && err.cause ? ` (${String((err.cause as Error).message ?? err.cause)})` : '';
  console.error(err instanceof Error ? `${err.message}${cause}\n${err.stack ?? ''}` : err);
  process.exit(1);
});
