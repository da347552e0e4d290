/**
 * The loop Postato's "Staggered publishing" cookbook recommends, as a baseline for publish-bench.ts: one request at a
 * time, a 250 ms sleep between rows (scaled to the compressed window), random jitter on scheduledAt drawn on every
 * attempt, a stable key of 32 hex of sha256(business key), up to 5 attempts, and a wait of Retry-After on 429.
 * Because the jitter is drawn again on a retry, a row whose response was lost is re-sent with a different body under
 * the same key: in strict idempotency mode Postato answers idempotency_key_reused and the row cannot be recovered.
 */
import { createHash } from 'node:crypto';
import { sleep } from '../src/clock';
import { PostatoClient } from '../src/postato/postato-client';
import { PostatoError } from '../src/postato/postato-errors';
import { bodyFor, type BenchRow, type BenchTenant, type TenantResult, newTenantResult } from './bench-rows';

/** Options of one tenant's guide loop. */
export interface GuideLoopOptions {
  baseUrl: string;
  tenant: BenchTenant;
  rows: BenchRow[];
  limit: number;
  windowMs: number;
  /** The jitter source (Math.random in the guide). */
  random?: () => number;
}

const GUIDE_SLEEP_MS = 250;
const GUIDE_WINDOW_MS = 60_000;
const GUIDE_JITTER_MS = 90_000;
const GUIDE_MAX_ATTEMPTS = 5;

/** Runs the guide's loop for one tenant and reports what it achieved (duplicates are counted by the caller). */
export async function runStaggeredGuideLoop(opts: GuideLoopOptions): Promise<TenantResult> {
  const random = opts.random ?? Math.random;
  const scale = opts.windowMs / GUIDE_WINDOW_MS;
  const pauseMs = GUIDE_SLEEP_MS * scale;
  const client = new PostatoClient({
    baseUrl: opts.baseUrl,
    apiKey: opts.tenant.apiKey,
    timeoutMs: 5000,
    retry: { maxAttempts: 1 },
  });
  const result = newTenantResult('guide-loop', opts.tenant.name, opts.rows.length, opts.limit, opts.windowMs);
  const start = Date.now();
  let lastDone = start;
  for (const row of opts.rows) {
    const key = createHash('sha256').update(`${opts.tenant.workspaceId}/${row.rowKey}`).digest('hex').slice(0, 32);
    let attempt = 0;
    for (;;) {
      attempt++;
      // The guide builds the post, jitter included, inside the retry helper: every attempt draws a new time.
      const body = bodyFor(opts.tenant, row, Math.floor(random() * GUIDE_JITTER_MS));
      try {
        await client.createPost(opts.tenant.workspaceId, body, key, { retry: { maxAttempts: 1 } });
        result.created++;
        lastDone = Date.now();
        break;
      } catch (err) {
        if (!(err instanceof PostatoError)) throw err;
        if (err.code === 'rate_limited') {
          result.rateLimited++;
          attempt--; // the guide waits Retry-After and tries again; a 429 is not a failed attempt
          await sleep(err.retryAfterMs ?? 1000);
          continue;
        }
        if (err.code === 'idempotency_key_reused') {
          result.keyReused++;
          result.unrecovered++;
          break;
        }
        if (err.retryable && attempt < GUIDE_MAX_ATTEMPTS) {
          await sleep(err.retryAfterMs ?? pauseMs * 2 ** attempt);
          continue;
        }
        result.unrecovered++;
        break;
      }
    }
    await sleep(pauseMs);
  }
  result.elapsedMs = lastDone - start;
  return result;
}
