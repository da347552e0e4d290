/**
 * What the publish benchmarks share: a generated sheet of rows per tenant, fake API keys made at runtime, the
 * physical minimum time the limit allows, and the result table they print.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RunRequest } from '../appsscript/shared/contract';
import type { CreatePostBody } from '../src/post-body';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../appsscript/shared/sheet-columns';

/** The header of every benchmark sheet: the contract's columns, outputs included. */
/** The sheet contract's full header: input columns, then output columns. */
export const SHEET_HEADER: string[] = [...INPUT_COLUMNS, ...OUTPUT_COLUMNS];

/** One planned row: its stable key and its base schedule time (before any jitter). */
export interface BenchRow {
  rowKey: string;
  baseAtMs: number;
}

/** A tenant of the benchmark: its own fake key, workspace and account. */
export interface BenchTenant {
  name: string;
  apiKey: string;
  workspaceId: string;
  accountId: string;
}

/** Makes `count` tenants with keys generated now (never stored anywhere); `label` keeps workspaces of sets apart. */
export function makeTenants(count: number, label: string): BenchTenant[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `tenant-${i + 1}`,
    apiKey: 'smcp_' + randomBytes(32).toString('hex'),
    workspaceId: `wks_${label}${i + 1}`,
    accountId: `acc_${label}${i + 1}`,
  }));
}

/** Rows scheduled 15 minutes apart, starting a day from now (always in the future for the sandbox). */
export function makeRows(count: number, nowMs: number): BenchRow[] {
  const start = nowMs + 24 * 3600_000;
  return Array.from({ length: count }, (_, i) => ({
    rowKey: `row-${String(i + 1).padStart(5, '0')}`,
    baseAtMs: start + i * 15 * 60_000,
  }));
}

/** The create body of a row with a given jitter; the row key is in the text so posts can be traced back to rows. */
export function bodyFor(tenant: BenchTenant, row: BenchRow, jitterMs: number): CreatePostBody {
  return {
    platform: 'twitter',
    accountId: tenant.accountId,
    status: 'scheduled',
    postType: 'tweet',
    content: `Benchmark post for ${row.rowKey}`,
    scheduledAt: new Date(row.baseAtMs + jitterMs).toISOString(),
  };
}

/** A tenant's rows as the add-on sends them (blank times: auto-slotted), in SHEET_HEADER order from sheet row 2. */
export function sheetRowsFor(tenant: BenchTenant, rows: BenchRow[]): RunRequest['rows'] {
  return rows.map((row, i) => {
    const byCol: Record<string, string> = {
      Key: row.rowKey,
      Platform: 'x',
      Account: tenant.accountId,
      'Post type': 'tweet',
      Content: `Benchmark post for ${row.rowKey}`,
    };
    return { rowNumber: i + 2, values: SHEET_HEADER.map((h) => byCol[h] ?? '') };
  });
}

/** The row key a post was created for (read back from its text). */
export function rowKeyOfText(text: string | undefined): string | undefined {
  return /Benchmark post for (row-\d+)/.exec(text ?? '')?.[1];
}

/** Deterministic jitter in [0, maxMs) from a hash of the row key (the product's way: the dry run shows the same time). */
export function hashJitterMs(rowKey: string, maxMs: number): number {
  return createHash('sha256').update(rowKey).digest().readUInt32BE(0) % Math.max(1, maxMs);
}

/** floor((N − 1) / L) · W: the least time N creations from a cold start can take under L per rolling W. */
export function physicalMinimumMs(rows: number, limit: number, windowMs: number): number {
  return Math.floor((rows - 1) / limit) * windowMs;
}

/** What one loop achieved for one tenant. */
export interface TenantResult {
  path: string;
  tenant: string;
  rows: number;
  limit: number;
  windowMs: number;
  elapsedMs: number;
  created: number;
  rateLimited: number;
  duplicates: number;
  /** Rows the loop could not finish (e.g. idempotency_key_reused after a lost response). */
  unrecovered: number;
  keyReused: number;
  maxInWindow?: number;
}

/** A result with nothing counted yet, for one loop (`path`) over one tenant's rows. */
export function newTenantResult(
  path: string,
  tenant: string,
  rows: number,
  limit: number,
  windowMs: number,
): TenantResult {
  return {
    path,
    tenant,
    rows,
    limit,
    windowMs,
    elapsedMs: 0,
    created: 0,
    rateLimited: 0,
    duplicates: 0,
    unrecovered: 0,
    keyReused: 0,
  };
}

/** Prints the result table: one line per tenant and path, with the ratio to the physical minimum. */
export function printResults(results: TenantResult[]): void {
  const header = [
    'path',
    'tenant',
    'N',
    'L',
    'W ms',
    'min ms',
    'elapsed ms',
    'ratio',
    '429s',
    'dupes',
    'key_reused',
    'unrecovered',
    'max/window',
  ];
  const lines = results.map((r) => {
    const min = physicalMinimumMs(r.rows, r.limit, r.windowMs);
    const ratio = min > 0 ? (r.elapsedMs / min).toFixed(3) : 'n/a';
    return [
      r.path,
      r.tenant,
      r.rows,
      r.limit,
      r.windowMs,
      min,
      Math.round(r.elapsedMs),
      ratio,
      r.rateLimited,
      r.duplicates,
      r.keyReused,
      r.unrecovered,
      r.maxInWindow ?? '?',
    ].map(String);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] as number)).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
}
