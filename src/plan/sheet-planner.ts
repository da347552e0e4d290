/**
 * planSheet: the pure heart of the dry run. It validates every row, resolves accounts, places every post in time,
 * checks caps, duplicates and collisions, and builds the verdicts, the Postato bodies and the summary. Everything it
 * needs from outside (now, accounts, scheduled posts, known posts) is passed in, so the same input gives the same plan.
 */
import type {
  DryRunSummary,
  ResolvedPlanSettings,
  RowMessage,
  RowVerdict,
  RunRequest,
} from '../../appsscript/shared/contract';
import type { CreatePostBody } from '../post-body';
import type { KnownPost, PostatoAccount, ScheduledPostSummary } from './dry-run-ports';
import { BadRequestError } from '../errors';
import { collapseSpaces, mapHeader, withoutAt } from './sheet-contract';
import { validateRow, type ValidatedRow } from './row-validator';
import { PLATFORM_RULES } from './platform-rules';
import { jitterSecondsFor } from './stable-jitter';
import { planStagger, type FixedSlot, type StaggerItem } from './stagger-planner';
import { buildSummary, type SummaryRow } from './dry-run-report';
import { localDate, localIso, localStamp, utcIso } from './local-time-format';
import { postBodyHash } from './post-body-hash';

/** "an X", "an Instagram", "a LinkedIn": the article as the platform's name is spoken. */
function withArticle(label: string): string {
  return `${/^[AEIOX]/i.test(label) ? 'an' : 'a'} ${label}`;
}

/** One row of a plan, as the dry run shows it and as Publish sends it. */
export interface PlannedRow {
  rowNumber: number;
  key: string | null;
  verdict: RowVerdict;
  /** The exact Postato create body, for rows Publish would send. */
  body?: CreatePostBody;
  /** Post already known for this row (sheet's Post ID column or the ledger). */
  postId?: string;
  /** What the row's Status column currently says. */
  sheetStatus?: string;
  /**
   * For a row that already has a post and is valid: the create body the row asks for now (its content, and its
   * edited Scheduled at or else its kept time). Reschedule PATCHes the post towards it; its hash tells CHANGED rows.
   */
  updateBody?: CreatePostBody;
}

/** The whole plan of a run. */
export interface PlannedRun {
  rows: PlannedRow[];
  summary: DryRunSummary;
  settings: ResolvedPlanSettings;
}

/** Server-side defaults for settings the request may leave out. */
export interface PlanDefaults {
  minGapMinutes: number;
  jitterSeconds: number;
  createLimit: number;
  windowMs: number;
}

/** Everything planSheet reads. `accounts`/`scheduledPosts` are null when Postato could not tell us. */
export interface PlanSheetInput {
  request: Pick<RunRequest, 'spreadsheetId' | 'spreadsheetTimeZone' | 'header' | 'rows' | 'settings' | 'onlyKeys'>;
  nowMs: number;
  defaults: PlanDefaults;
  accounts: PostatoAccount[] | null;
  scheduledPosts: ScheduledPostSummary[] | null;
  knownPosts: Map<string, KnownPost>;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const YEAR = 365 * DAY;

/** The default auto-slot start: the next quarter hour at least 10 minutes from now. */
export function defaultStartMs(nowMs: number): number {
  const quarter = 15 * MINUTE;
  return Math.ceil((nowMs + 10 * MINUTE) / quarter) * quarter;
}

/** Resolves the settings of a run against the defaults; a start time already (nearly) past is replaced. */
export function resolveSettings(input: PlanSheetInput, notes: string[]): ResolvedPlanSettings {
  const s = input.request.settings ?? {};
  let startMs = defaultStartMs(input.nowMs);
  if (s.startAt) {
    const given = Date.parse(s.startAt);
    if (given >= input.nowMs + MINUTE) startMs = given;
    else notes.push(`The start time ${s.startAt} has passed; auto-slotted rows start at ${iso(startMs)} instead.`);
  }
  return {
    startAt: iso(startMs),
    minGapMinutes: s.minGapMinutes ?? input.defaults.minGapMinutes,
    jitterSeconds: s.jitterSeconds ?? input.defaults.jitterSeconds,
    timeZone: s.timeZone ?? input.request.spreadsheetTimeZone,
  };
}

interface Working {
  v: ValidatedRow;
  accountId?: string;
  postId?: string;
  /** What the ledger remembers about this row's post (absent when only the sheet has the Post ID). */
  known?: KnownPost;
  plannedMs?: number;
  timeSource?: RowVerdict['timeSource'];
  /** Row cannot be sent whatever happens (error found before planning). */
  planned: boolean;
}

const warn = (column: string | undefined, message: string): RowMessage => ({
  level: 'warning',
  ...(column ? { column } : {}),
  message,
});
const error = (column: string, message: string): RowMessage => ({
  level: 'error',
  column,
  message: `${column}: ${message}`,
});
const hasError = (w: Working) => w.v.messages.some((m) => m.level === 'error');
const iso = utcIso;

/** Validates and plans a sheet. Throws BadRequestError when required columns are missing. */
export function planSheet(input: PlanSheetInput): PlannedRun {
  const { request, nowMs } = input;
  const warnings: string[] = [];
  const info: string[] = [];
  const settings = resolveSettings(input, warnings);
  const gapMs = settings.minGapMinutes * MINUTE;

  const map = mapHeader(request.header);
  if (map.missing.length > 0) {
    throw new BadRequestError(
      `The header row has no ${map.missing.join(', ')} column${map.missing.length > 1 ? 's' : ''}: add ${map.missing.length > 1 ? 'them' : 'it'} (names are matched case-insensitively).`,
      { missing: map.missing },
      'missing_columns',
    );
  }
  if (map.unknown.length > 0) info.push(`Columns ignored (not part of the sheet contract): ${map.unknown.join(', ')}.`);
  if (map.duplicates.length > 0)
    info.push(`Columns that appear twice (only the first is read): ${map.duplicates.join(', ')}.`);

  // 1. Each row on its own.
  const rows: Working[] = [];
  for (const input_ of request.rows) {
    const v = validateRow(input_.rowNumber, input_.values, map, settings.timeZone);
    if (!v.blank) rows.push({ v, planned: false });
  }

  // 2. Keys: first use wins; known posts from the sheet or the ledger.
  const firstByKey = new Map<string, Working>();
  const sheetPostIds = new Set<string>();
  for (const w of rows) {
    const key = w.v.key;
    if (key !== null) {
      const first = firstByKey.get(key);
      if (first)
        w.v.messages.push(
          error(
            'Key',
            `"${key}" is also used by row ${first.v.rowNumber}: give this row a key no other row uses (clear it and the add-on fills a new one).`,
          ),
        );
      else firstByKey.set(key, w);
    }
    const known = key !== null && firstByKey.get(key) === w ? input.knownPosts.get(key) : undefined;
    w.postId = w.v.postId ?? known?.postId;
    if (known && known.postId === w.postId) w.known = known;
    if (w.postId) sheetPostIds.add(w.postId);
    if (w.postId) {
      const ms = known?.scheduledAt
        ? Date.parse(known.scheduledAt)
        : (w.v.scheduledUtcMs ?? (w.v.time.kind === 'time' ? w.v.time.utcMs : undefined));
      if (ms !== undefined && Number.isFinite(ms)) w.plannedMs = ms;
      w.timeSource = 'existing';
    }
  }

  // 3. Accounts.
  const accountsChecked = input.accounts !== null;
  if (!accountsChecked)
    warnings.push(
      "Postato's account list did not answer: accounts were not checked. They are checked again when Publish sends each post.",
    );
  // Indexed once (first match wins, as a linear find would) so each row looks its account up in constant time.
  const accountById = new Map<string, PostatoAccount>();
  const accountByName = new Map<string, PostatoAccount>();
  for (const a of input.accounts ?? []) {
    if (!accountById.has(a.id)) accountById.set(a.id, a);
    const name = `${a.platform}\u0000${withoutAt(a.username).toLowerCase()}`;
    if (!accountByName.has(name)) accountByName.set(name, a);
  }
  for (const w of rows) {
    const { platform } = w.v;
    if (!platform || !w.v.account) continue;
    if (!input.accounts) {
      w.accountId = w.v.account;
      continue;
    }
    const acc =
      accountById.get(w.v.account) ?? accountByName.get(`${platform}\u0000${withoutAt(w.v.account).toLowerCase()}`);
    if (w.postId) {
      // Already posted: not checked again, but resolved so its time still holds the account's gap for new rows.
      w.accountId = acc?.id ?? w.v.account;
      continue;
    }
    const label = PLATFORM_RULES[platform].label;
    if (!acc) {
      const names = input.accounts.filter((a) => a.platform === platform).map((a) => `@${a.username}`);
      w.v.messages.push(
        error(
          'Account',
          `"${w.v.account}" is not ${withArticle(label)} account of this Postato workspace: ${names.length ? `use one of ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}` : `connect ${withArticle(label)} account in Postato first`}.`,
        ),
      );
      w.accountId = w.v.account;
    } else if (acc.platform !== platform) {
      w.v.messages.push(
        error(
          'Account',
          `${acc.id} (@${acc.username}) is a ${acc.platform} account, not ${label}: fix the Platform or the Account.`,
        ),
      );
      w.accountId = acc.id;
    } else if (acc.status !== 'connected') {
      w.v.messages.push(
        error(
          'Account',
          `@${acc.username} is ${acc.status.replace(/_/g, ' ')} in Postato: reconnect it there, then run the dry run again.`,
        ),
      );
      w.accountId = acc.id;
    } else w.accountId = acc.id;
  }

  // 4. Times: past, far future, now.
  const nowRows = new Map<string, Working>();
  for (const w of rows) {
    if (w.postId) continue;
    const t = w.v.time;
    if (t.kind === 'time') {
      if (t.utcMs < nowMs)
        w.v.messages.push(
          error(
            'Scheduled at',
            `${local(t.utcMs, w.v.zone)} is in the past: pick a future time, or leave the cell blank to auto-slot.`,
          ),
        );
      else if (t.utcMs > nowMs + YEAR)
        w.v.messages.push(
          warn(
            'Scheduled at',
            `Scheduled at: ${local(t.utcMs, w.v.zone)} is more than a year away; Postato accepts it but check the year.`,
          ),
        );
    } else if (t.kind === 'now' && w.accountId) {
      w.plannedMs = nowMs;
      w.timeSource = 'now';
      w.v.messages.push({
        level: 'info',
        column: 'Scheduled at',
        message: 'Scheduled at: "now" publishes as soon as Publish sends the post.',
      });
      const earlier = nowRows.get(w.accountId);
      if (earlier)
        w.v.messages.push(
          warn(
            'Scheduled at',
            `Scheduled at: row ${earlier.v.rowNumber} also publishes this account "now": the two go out together, without the ${settings.minGapMinutes}-minute gap.`,
          ),
        );
      else nowRows.set(w.accountId, w);
    }
  }

  // 5. Place posts in time.
  const items: StaggerItem[] = [];
  const fixed: FixedSlot[] = [];
  rows.forEach((w, id) => {
    if (!w.accountId) return;
    if (w.postId || w.timeSource === 'now') {
      if (w.plannedMs !== undefined)
        fixed.push({ accountId: w.accountId, ms: w.plannedMs, owner: id, holdsSecond: w.timeSource !== 'now' });
      return;
    }
    if (w.v.key === null) return;
    const t = w.v.time;
    if (t.kind === 'error' || (t.kind === 'time' && t.utcMs < nowMs)) return;
    const jitterMs = jitterSecondsFor(request.spreadsheetId, w.v.key, settings.jitterSeconds) * 1000;
    items.push({
      id,
      sortKey: w.v.key,
      accountId: w.accountId,
      jitterMs,
      ...(t.kind === 'time' ? { desiredMs: t.utcMs } : {}),
    });
  });
  const placements = planStagger({ items, fixed, startMs: Date.parse(settings.startAt), gapMs });
  for (const item of items) {
    const w = rows[item.id]!;
    const p = placements.get(item.id)!;
    w.plannedMs = p.ms;
    w.planned = true;
    w.timeSource = item.desiredMs === undefined ? 'auto' : 'sheet';
    if (p.moved) {
      const by = p.pushedBy !== undefined ? rows[p.pushedBy] : undefined;
      const minutes = Math.round((p.ms - item.desiredMs! - item.jitterMs) / MINUTE);
      w.v.messages.push(
        warn(
          'Scheduled at',
          `Scheduled at: moved ${minutes >= 1 ? `${minutes} min` : 'less than a minute'} later, to ${local(p.ms, w.v.zone)}, to keep ${settings.minGapMinutes} minutes after ${by ? `row ${by.v.rowNumber}` : 'another post'} of the same account.`,
        ),
      );
    } else if (p.bumpedSeconds > 0) {
      w.v.messages.push({
        level: 'info',
        column: 'Scheduled at',
        message: `Scheduled at: shifted ${p.bumpedSeconds} s so no two posts leave in the same second.`,
      });
    }
  }

  // 6. Daily caps, same content within a day.
  checkCaps(rows, warnings);
  checkRepeatedContent(rows);

  // 7. Collisions with posts already scheduled in Postato (not those this sheet created).
  const collisions: DryRunSummary['collisions'] = [];
  const collisionsChecked = input.scheduledPosts !== null;
  if (!collisionsChecked)
    warnings.push(
      "Postato's list of scheduled posts did not answer: collisions with posts made outside this sheet were not checked.",
    );
  else {
    const byAccount = new Map<string, { ms: number; post: ScheduledPostSummary }[]>();
    for (const post of input.scheduledPosts!) {
      if (sheetPostIds.has(post.id)) continue;
      const ms = Date.parse(post.scheduledAt);
      if (!Number.isFinite(ms)) continue;
      let list = byAccount.get(post.accountId);
      if (!list) byAccount.set(post.accountId, (list = []));
      list.push({ ms, post });
    }
    for (const list of byAccount.values()) list.sort((a, b) => a.ms - b.ms || (a.post.id < b.post.id ? -1 : 1));
    const window = Math.max(gapMs, 1000);
    for (const w of rows) {
      if (!w.planned || w.plannedMs === undefined || !w.accountId) continue;
      for (const { ms, post } of byAccount.get(w.accountId) ?? []) {
        if (Math.abs(ms - w.plannedMs) >= window) continue;
        collisions.push({
          rowNumber: w.v.rowNumber,
          key: w.v.key,
          accountId: w.accountId,
          plannedAt: iso(w.plannedMs),
          existingPostId: post.id,
          existingScheduledAt: iso(ms),
        });
        if (!hasError(w))
          w.v.messages.push(
            warn(
              'Scheduled at',
              `Scheduled at: post ${post.id}, already scheduled in Postato for this account at ${local(ms, w.v.zone)}, is less than ${settings.minGapMinutes} minutes away: move one of them.`,
            ),
          );
      }
    }
    if (collisions.length > 0)
      warnings.push(
        `${collisions.length} planned post${collisions.length > 1 ? 's are' : ' is'} within ${settings.minGapMinutes} minutes of a post already scheduled in Postato for the same account (rows ${[...new Set(collisions.map((c) => c.rowNumber))].slice(0, 20).join(', ')}).`,
      );
  }

  // 8. Pacing: will Publish create each post before its time?
  const intervalMs = input.defaults.windowMs / input.defaults.createLimit;
  const sendable = rows.filter((w) => !hasError(w) && !w.postId && w.v.key !== null && w.plannedMs !== undefined);
  const inOrder = [...sendable].sort((a, b) => a.plannedMs! - b.plannedMs! || a.v.rowNumber - b.v.rowNumber);
  const late: number[] = [];
  inOrder.forEach((w, i) => {
    if (w.timeSource === 'now') return;
    const createdBy = nowMs + (i + 1) * intervalMs + MINUTE;
    if (w.plannedMs! < createdBy) {
      late.push(w.v.rowNumber);
      w.v.messages.push(
        warn(
          'Scheduled at',
          `Scheduled at: ${local(w.plannedMs!, w.v.zone)} is too soon: Publish may not create this post before then (creation is paced). Move it later or leave it blank to auto-slot.`,
        ),
      );
    }
  });
  if (late.length > 0)
    warnings.push(
      `Rows ${late.slice(0, 20).join(', ')}${late.length > 20 ? ', …' : ''} are scheduled so soon that pacing may create them after their time.`,
    );

  // 9. Rows with a post: what they ask for now, and whether that differs from what was sent (CHANGED).
  const updates = new Map<Working, { body: CreatePostBody; changed: boolean }>();
  for (const w of rows) {
    if (!w.postId || hasError(w) || w.v.key === null || !w.accountId) continue;
    const u = updateTarget(w, rows, {
      nowMs,
      gapMs,
      spreadsheetId: request.spreadsheetId,
      jitterSeconds: settings.jitterSeconds,
    });
    if (u) updates.set(w, u);
  }

  // 10. Verdicts and bodies.
  const only = request.onlyKeys ? new Set(request.onlyKeys) : null;
  const planned: PlannedRow[] = [];
  const summaryRows: SummaryRow[] = [];
  for (const w of rows) {
    if (only && (w.v.key === null || !only.has(w.v.key))) continue;
    const verdict = toVerdict(w);
    const row: PlannedRow = { rowNumber: w.v.rowNumber, key: w.v.key, verdict };
    if (w.postId) row.postId = w.postId;
    if (w.v.sheetStatus) row.sheetStatus = w.v.sheetStatus;
    if (verdict.status !== 'INVALID' && !w.postId && w.v.key !== null && w.plannedMs !== undefined)
      row.body = toBody(w);
    const update = updates.get(w);
    if (update && verdict.status !== 'INVALID') {
      row.updateBody = update.body;
      if (update.changed) verdict.changed = true;
    }
    planned.push(row);
    summaryRows.push({
      verdict,
      sends: row.body !== undefined,
      alreadyPosted: w.postId !== undefined,
      zone: w.v.zone,
      plannedMs: w.plannedMs,
    });
  }
  const summary = buildSummary({
    rows: summaryRows,
    warnings,
    info,
    collisions,
    accountsChecked,
    collisionsChecked,
    createLimit: input.defaults.createLimit,
    windowMs: input.defaults.windowMs,
  });
  const changed = planned.filter((r) => r.verdict.changed).length;
  if (changed > 0) summary.changed = changed;
  return { rows: planned, summary, settings };
}

function local(ms: number, zone: string): string {
  return localStamp(ms, zone);
}

function toVerdict(w: Working): RowVerdict {
  const v = w.v;
  const status = v.messages.some((m) => m.level === 'error')
    ? 'INVALID'
    : v.messages.some((m) => m.level === 'warning')
      ? 'WARNING'
      : 'READY';
  const verdict: RowVerdict = { rowNumber: v.rowNumber, key: v.key, status, messages: v.messages, timeZone: v.zone };
  if (v.platform) verdict.platform = v.platform;
  if (w.accountId) verdict.accountId = w.accountId;
  if (v.postType) verdict.postType = v.postType;
  if (w.plannedMs !== undefined) {
    verdict.plannedAt = iso(w.plannedMs);
    verdict.plannedLocal = localIso(w.plannedMs, v.zone) ?? undefined;
  }
  if (w.timeSource) verdict.timeSource = w.timeSource;
  if (w.postId) verdict.postId = w.postId;
  return verdict;
}

/** Sheet statuses of posts Postato can no longer edit (PATCH answers not_editable). */
const FINAL_STATUSES = new Set(['PUBLISHED', 'CANCELLED', 'DELIVERY FAILED', 'FAILED', 'QUEUED']);

const CHANGED_MESSAGE =
  'Content or time differs from the post in Postato: press Reschedule changed rows to update it, or undo the edit.';

/**
 * The body a row with a post asks for now, and whether it is CHANGED. Its time is the kept one unless the user edited
 * Scheduled at: a sheet time counts as edited when the kept time is not where planning that cell would have put it
 * (the cell plus this row's jitter, a few seconds later at most, or pushed one gap after a neighbouring post of the
 * same account). Rows the ledger knows no body hash for are never CHANGED: there is nothing to compare with.
 */
function updateTarget(
  w: Working,
  rows: Working[],
  o: { nowMs: number; gapMs: number; spreadsheetId: string; jitterSeconds: number },
): { body: CreatePostBody; changed: boolean } | undefined {
  const t = w.v.time;
  let atMs: number | null;
  if (t.kind === 'now') atMs = null;
  else if (t.kind === 'time') {
    const placed = t.utcMs + jitterSecondsFor(o.spreadsheetId, w.v.key!, o.jitterSeconds) * 1000;
    atMs =
      w.plannedMs !== undefined && !timeEdited(w, placed, rows, o.gapMs + o.jitterSeconds * 1000)
        ? w.plannedMs
        : placed;
  } else if (w.plannedMs !== undefined) atMs = w.plannedMs;
  else return undefined;
  const body = bodyAt(w, atMs);
  if (!w.known?.bodyHash || postBodyHash(body) === w.known.bodyHash) return { body, changed: false };
  const status = (w.known.status ?? w.v.sheetStatus ?? '').toUpperCase();
  if (FINAL_STATUSES.has(status)) {
    w.v.messages.push(
      warn(
        undefined,
        `This row was edited, but its post is ${status} in Postato and can no longer change: to post the new version, move it to a new row (or clear its Key and Post ID so the add-on fills a new key).`,
      ),
    );
    return undefined;
  }
  if (atMs !== null && atMs < o.nowMs) {
    const edited = atMs !== w.plannedMs;
    w.v.messages.push(
      edited
        ? error(
            'Scheduled at',
            `${local(atMs, w.v.zone)} is in the past: pick a future time to reschedule this post, or undo the edit.`,
          )
        : warn(
            undefined,
            'This row was edited, but its post was due already, so it can no longer change: to post the new version, move it to a new row.',
          ),
    );
    return undefined;
  }
  w.v.messages.push({ level: 'info', message: CHANGED_MESSAGE });
  return { body, changed: true };
}

/** Whether the Scheduled at cell (placed at `placedMs`) no longer explains the post's kept time; `pushMs` = gap + jitter. */
function timeEdited(w: Working, placedMs: number, rows: Working[], pushMs: number): boolean {
  const kept = w.plannedMs!;
  const late = kept - placedMs;
  if (late >= 0 && late < MINUTE) return false;
  if (late < 0 || pushMs <= 0) return true;
  // Planning pushes a post one gap (plus its jitter) after the same account's previous post; such a neighbour explains it.
  return !rows.some(
    (o) =>
      o !== w &&
      o.accountId === w.accountId &&
      o.plannedMs !== undefined &&
      o.plannedMs < kept &&
      kept - o.plannedMs <= pushMs + MINUTE &&
      o.plannedMs >= placedMs - pushMs,
  );
}

function toBody(w: Working): CreatePostBody {
  return bodyAt(w, w.timeSource === 'now' ? null : w.plannedMs!);
}

/** The create body of a row, scheduled at `atMs` or published at once (`null`). */
function bodyAt(w: Working, atMs: number | null): CreatePostBody {
  const v = w.v;
  const body: CreatePostBody = {
    platform: v.platform!,
    accountId: w.accountId!,
    status: atMs === null ? 'publish' : 'scheduled',
    postType: v.postType!,
    content:
      v.postType === 'thread'
        ? v.parts.map((text, i) => (i === 0 && v.media.length > 0 ? { text, media: v.media } : { text }))
        : (v.parts[0] ?? ''),
  };
  if (v.postType !== 'thread' && v.media.length > 0) body.media = v.media;
  if (v.options) body.options = v.options;
  if (atMs !== null) body.scheduledAt = iso(atMs);
  return body;
}

function checkCaps(rows: Working[], warnings: string[]): void {
  const groups = new Map<string, Working[]>();
  for (const w of rows) {
    const platform = w.v.platform;
    const cap = platform ? PLATFORM_RULES[platform].dailyCap : undefined;
    if (!platform || cap === undefined || w.plannedMs === undefined || !w.accountId || (hasError(w) && !w.postId))
      continue;
    const day = localDate(w.plannedMs, w.v.zone);
    const k = `${platform}\u0000${w.accountId}\u0000${day}`;
    let list = groups.get(k);
    if (!list) groups.set(k, (list = []));
    list.push(w);
  }
  for (const [k, list] of groups) {
    const [platform, accountId, day] = k.split('\u0000') as [keyof typeof PLATFORM_RULES, string, string];
    const rule = PLATFORM_RULES[platform];
    const cap = rule.dailyCap!;
    if (list.length <= cap) continue;
    list.sort((a, b) => a.plannedMs! - b.plannedMs! || a.v.rowNumber - b.v.rowNumber);
    const over = list.slice(cap);
    over.forEach((w, i) =>
      w.v.messages.push(
        warn(
          'Scheduled at',
          `Scheduled at: ${rule.label} allows about ${cap} posts per account per day; this is post ${cap + i + 1} for ${accountId} on ${day}: move it to another day.`,
        ),
      ),
    );
    warnings.push(
      `${rule.label} daily cap: ${accountId} has ${list.length} posts on ${day} (cap ${cap}); rows over the cap: ${over.map((w) => w.v.rowNumber).join(', ')}.`,
    );
  }
}

function checkRepeatedContent(rows: Working[]): void {
  const groups = new Map<string, Working[]>();
  for (const w of rows) {
    if (w.plannedMs === undefined || !w.accountId || w.v.parts.length === 0) continue;
    const k = `${w.v.platform}\u0000${w.accountId}\u0000${collapseSpaces(w.v.parts.join('\n---\n')).toLowerCase()}`;
    let list = groups.get(k);
    if (!list) groups.set(k, (list = []));
    list.push(w);
  }
  for (const list of groups.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.plannedMs! - b.plannedMs! || a.v.rowNumber - b.v.rowNumber);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const w = list[i]!;
      if (w.plannedMs! - prev.plannedMs! < DAY && !w.postId) {
        w.v.messages.push(
          warn(
            'Content',
            `Content: the same text goes to this account in row ${prev.v.rowNumber} less than a day earlier; platforms often reject or hide duplicates: change the text or the day.`,
          ),
        );
      }
    }
  }
}
