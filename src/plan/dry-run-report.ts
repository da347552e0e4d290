/**
 * Builds the dry-run summary: counts, earliest and latest times, per-account-per-day counts, and the pacing estimate.
 */
import { localDate } from './local-time-format';
import { pacingMessages } from './plan-messages';
import type { Collision, CountByPlatformAccountDay, DryRunSummary, RowVerdict } from '../../appsscript/shared/contract';

/** What the summary needs to know about one row. */
export interface SummaryRow {
  verdict: RowVerdict;
  /** Publish would send this row. */
  sends: boolean;
  alreadyPosted: boolean;
  zone: string;
  /** The planned instant behind `verdict.plannedAt`, when the caller has it (saves parsing the ISO text again). */
  plannedMs?: number;
}

export interface SummaryInput {
  rows: SummaryRow[];
  warnings: string[];
  info: string[];
  collisions: Collision[];
  accountsChecked: boolean;
  collisionsChecked: boolean;
  createLimit: number;
  windowMs: number;
}

/** Creations per second the publisher sustains inside one window's burst (measured on a small machine). */
const BURST_RATE_PER_SECOND = 20;

/**
 * Seconds needed to create `n` posts under `limit` creations per rolling `windowMs`. The pacer sends as fast as the
 * window allows: the first `limit` go out at once, then each further batch when the window has moved on.
 */
export function estimatePublishSeconds(n: number, limit: number, windowMs: number): number {
  if (n <= 0) return 0;
  const fullWindows = Math.floor((n - 1) / limit);
  const lastBatch = n - fullWindows * limit;
  return Math.ceil((fullWindows * windowMs) / 1000 + lastBatch / BURST_RATE_PER_SECOND);
}

/** One sentence on how creation is spread under Postato's limit. */
export function describePacing(n: number, limit: number, windowMs: number): string {
  if (n === 0) return pacingMessages.nothing;
  const seconds = estimatePublishSeconds(n, limit, windowMs);
  const duration = seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
  const rule = pacingMessages.rule(limit, windowMs / 1000);
  const posts = `${n} post${n > 1 ? 's' : ''}`;
  if (n <= limit) return pacingMessages.atOnce(posts, rule, duration);
  const batches = Math.ceil(n / limit);
  return pacingMessages.inBatches(posts, batches, limit, windowMs / 1000, rule, duration);
}

/** Assembles the DryRunSummary. */
export function buildSummary(input: SummaryInput): DryRunSummary {
  let ready = 0;
  let warning = 0;
  let invalid = 0;
  let alreadyPosted = 0;
  let toSend = 0;
  let earliest: string | undefined;
  let latest: string | undefined;
  // Nested by platform, account and day rather than keyed by a joined string: no key string per row.
  const counts = new Map<string, Map<string, Map<string, CountByPlatformAccountDay>>>();
  const all: CountByPlatformAccountDay[] = [];
  for (const r of input.rows) {
    const v = r.verdict;
    if (v.status === 'READY') ready++;
    else if (v.status === 'WARNING') warning++;
    else invalid++;
    if (r.alreadyPosted) alreadyPosted++;
    if (r.sends) toSend++;
    if ((r.sends || r.alreadyPosted) && v.plannedAt && v.platform && v.accountId) {
      if (earliest === undefined || v.plannedAt < earliest) earliest = v.plannedAt;
      if (latest === undefined || v.plannedAt > latest) latest = v.plannedAt;
      const day = localDate(r.plannedMs ?? Date.parse(v.plannedAt), r.zone) ?? v.plannedAt.slice(0, 10);
      let byAccount = counts.get(v.platform);
      if (!byAccount) counts.set(v.platform, (byAccount = new Map()));
      let byDay = byAccount.get(v.accountId);
      if (!byDay) byAccount.set(v.accountId, (byDay = new Map()));
      const c = byDay.get(day);
      if (c) c.count++;
      else {
        const added: CountByPlatformAccountDay = { platform: v.platform, accountId: v.accountId, day, count: 1 };
        byDay.set(day, added);
        all.push(added);
      }
    }
  }
  const sortedCounts = all.sort(
    (a, b) => cmp(a.platform, b.platform) || cmp(a.accountId, b.accountId) || cmp(a.day, b.day),
  );
  const summary: DryRunSummary = {
    total: input.rows.length,
    ready,
    warning,
    invalid,
    alreadyPosted,
    toSend,
    counts: sortedCounts,
    warnings: input.warnings,
    collisions: input.collisions,
    accountsChecked: input.accountsChecked,
    collisionsChecked: input.collisionsChecked,
    estimatedPublishSeconds: estimatePublishSeconds(toSend, input.createLimit, input.windowMs),
    pacing: describePacing(toSend, input.createLimit, input.windowMs),
  };
  if (earliest) summary.earliest = earliest;
  if (latest) summary.latest = latest;
  if (input.info.length > 0) summary.info = input.info;
  return summary;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
