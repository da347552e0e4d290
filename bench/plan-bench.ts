/**
 * Times validating and planning 10,000 rows (mixed platforms, explicit and auto-slotted times) and prints the ratio
 * to the one-second target. Run: npx tsx bench/plan-bench.ts
 */
import { performance } from 'node:perf_hooks';
import { planSheet } from '../src/plan/sheet-planner';
import type { RunRequest } from '../appsscript/shared/contract';

const TARGET_MS = 1000;
const N = 10_000;
const header = ['Key', 'Platform', 'Account', 'Post type', 'Content', 'Media', 'Scheduled at', 'Time zone', 'Title', 'Options', 'Status', 'Post ID'];
const platforms = ['x', 'instagram', 'linkedin', 'youtube', 'tiktok'];
const rows: RunRequest['rows'] = Array.from({ length: N }, (_, i) => {
  const platform = platforms[i % platforms.length]!;
  const media = platform === 'x' || platform === 'linkedin' ? '' : platform === 'instagram' ? 'https://cdn.example.com/a.jpg' : 'https://cdn.example.com/v.mp4';
  const when = i % 3 === 0 ? '' : `2025-0${7 + (i % 3)}-${String((i % 28) + 1).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`;
  return {
    rowNumber: i + 2,
    values: [`key-${i}`, platform, `acc_${i % 40}`, '', `Post number ${i} with a link https://example.com/${i} and an emoji 🎉`, media, when, i % 7 === 0 ? 'Europe/London' : '', platform === 'youtube' ? `Video ${i}` : '', i % 11 === 0 ? '{"privacy":"public"}' : '', '', ''],
  };
});

function once(): number {
  const t0 = performance.now();
  planSheet({
    request: { spreadsheetId: 'bench', spreadsheetTimeZone: 'America/New_York', header, rows },
    nowMs: Date.UTC(2025, 5, 2, 12),
    defaults: { minGapMinutes: 15, jitterSeconds: 90, createLimit: 120, windowMs: 60_000 },
    accounts: null,
    scheduledPosts: null,
    knownPosts: new Map(),
  });
  return performance.now() - t0;
}

once(); // warm-up
const times = [once(), once(), once()].sort((a, b) => a - b);
const median = times[1]!;
console.log(`plan-bench: validate + plan ${N} rows: median ${median.toFixed(0)} ms over 3 runs; ratio to the ${TARGET_MS} ms target: ${(median / TARGET_MS).toFixed(2)} (below 1 meets it)`);
