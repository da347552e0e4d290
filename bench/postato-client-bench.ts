/**
 * Measures what the Postato client's retries cost under faults: creates the same number of posts against the
 * sandbox with and without injected faults, and prints requests per post and the wall-time ratio (no pass/fail).
 */
import { randomBytes } from 'node:crypto';
import { PostatoClient } from '../src/postato/postato-client';
import { startPostatoSandbox, type SandboxSettingsPatch } from '../src/sandbox/postato-sandbox';

const POSTS = Number(process.env.BENCH_POSTS ?? 300);
const CONCURRENCY = 20;

async function run(
  label: string,
  faults: SandboxSettingsPatch['faults'],
): Promise<{ ms: number; requests: number; posts: number }> {
  const sb = await startPostatoSandbox({
    settings: { limits: { create: 100_000, write: 100_000, read: 100_000, windowMs: 60_000 } },
    tickIntervalMs: 0,
  });
  try {
    if (faults) sb.update({ faults });
    const client = new PostatoClient({
      baseUrl: sb.url,
      apiKey: 'smcp_' + randomBytes(32).toString('hex'),
      timeoutMs: 1000,
      retry: { maxAttempts: 40, baseDelayMs: 10, maxDelayMs: 100, maxTotalMs: 30_000 },
    });
    const scheduledAt = new Date(sb.clock.now() + 86_400_000).toISOString();
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < POSTS) {
          const i = next++;
          await client.createPost(
            'wks_bench',
            {
              platform: 'twitter',
              accountId: 'acc_b',
              status: 'scheduled',
              postType: 'tweet',
              content: `bench ${i}`,
              scheduledAt,
            },
            `bench-${i}`,
          );
        }
      }),
    );
    const ms = performance.now() - t0;
    const seen = sb.inspect();
    const requests = seen.tenants.reduce((n, t) => n + t.counters.create, 0);
    console.log(
      `${label.padEnd(8)} ${POSTS} creates in ${ms.toFixed(0)} ms; ${seen.posts.length} posts stored; ${(requests / POSTS).toFixed(2)} create requests per post`,
    );
    return { ms, requests, posts: seen.posts.length };
  } finally {
    await sb.close();
  }
}

async function main(): Promise<void> {
  await run('warm-up', undefined); // JIT and socket pool warm-up, so the first measured run is not penalised
  const clean = await run('clean', undefined);
  const faulty = await run('faults', { error5xxShare: 0.1, dropAfterStoreShare: 0.05, hangShare: 0.03, hangMs: 1500 });
  console.log(
    `wall-time ratio faults/clean: ${(faulty.ms / clean.ms).toFixed(2)}; duplicates: ${faulty.posts - POSTS} (must be 0)`,
  );
  if (faulty.posts !== POSTS || clean.posts !== POSTS) process.exitCode = 1;
}

void main();
