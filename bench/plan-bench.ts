/**
 * Times validating and planning 10,000 rows (mixed platforms, explicit and auto-slotted times) and prints the ratio
 * to the one-second target, as wall-clock and as CPU time (the machine may be shared, which inflates only the first).
 * Run: npx tsx bench/plan-bench.ts (PLAN_BENCH_RUNS sets the number of timed runs, default 5).
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { planSheet } from '../src/plan/sheet-planner';
import type { RunRequest } from '../appsscript/shared/contract';

const TARGET_MS = 1000;
const N = 10_000;
const header = [
  'Key',
  'Platform',
  'Account',
  'Post type',
  'Content',
  'Media',
  'Scheduled at',
  'Time zone',
  'Title',
  'Options',
  'Status',
  'Post ID',
];
const platforms = ['x', 'instagram', 'linkedin', 'youtube', 'tiktok'];
const rows: RunRequest['rows'] = Array.from({ length: N }, (_, i) => {
  const platform = platforms[i % platforms.length]!;
  const media =
    platform === 'x' || platform === 'linkedin'
      ? ''
      : platform === 'instagram'
        ? 'https://cdn.example.com/a.jpg'
        : 'https://cdn.example.com/v.mp4';
  const when =
    i % 3 === 0
      ? ''
      : `2025-0${7 + (i % 3)}-${String((i % 28) + 1).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
  return {
    rowNumber: i + 2,
    values: [
      `key-${i}`,
      platform,
      `acc_${i % 40}`,
      '',
      `Post number ${i} with a link https://example.com/${i} and an emoji 🎉`,
      media,
      when,
      i % 7 === 0 ? 'Europe/London' : '',
      platform === 'youtube' ? `Video ${i}` : '',
      i % 11 === 0 ? '{"privacy":"public"}' : '',
      '',
      '',
    ],
  };
});

/** One timed plan: wall-clock ms and this process's CPU ms (the latter barely moves when other work shares the cores). */
function once(): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  planSheet({
    request: { spreadsheetId: 'bench', spreadsheetTimeZone: 'America/New_York', header, rows },
    nowMs: Date.UTC(2025, 5, 2, 12),
    defaults: { minGapMinutes: 15, jitterSeconds: 90, createLimit: 120, windowMs: 60_000 },
    accounts: null,
    scheduledPosts: null,
    knownPosts: new Map(),
  });
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const RUNS = Number(process.env.PLAN_BENCH_RUNS ?? 5);
once(); // warm-up: JIT, zone offset memo, compiled date formats
const samples = Array.from({ length: RUNS }, once);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const wall = median(samples.map((s) => s.wall));
const cpu = median(samples.map((s) => s.cpu));
const [load1] = loadavg();
console.log(
  `plan-bench: validate + plan ${N} rows: median ${wall.toFixed(0)} ms wall (${cpu.toFixed(0)} ms CPU) over ${RUNS} runs; ` +
    `ratio to the ${TARGET_MS} ms target: ${(wall / TARGET_MS).toFixed(2)} wall, ${(cpu / TARGET_MS).toFixed(2)} CPU (below 1 meets it); ` +
    `load average ${load1!.toFixed(1)} on ${availableParallelism()} cores`,
);
