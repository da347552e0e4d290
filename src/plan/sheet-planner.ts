/**
 * planSheet: the pure heart of the dry run. It validates every row, resolves accounts, places every post in time,
 * checks caps, duplicates and collisions, and builds the verdicts, the Postato bodies and the summary. Everything it
 * needs from outside (now, accounts, scheduled posts, known posts) is passed in, so the same input gives the same plan.
 */
import type {
  CellValue,
  DryRunSummary,
  ResolvedPlanSettings,
  RowMessage,
  RowVerdict,
  RunRequest,
} from '../../appsscript/shared/contract';
import type { CreatePostBody } from '../post-body';
import type { KnownPost, PostatoAccount, ScheduledPostSummary } from './dry-run-ports';
import { BadRequestError } from '../errors';
import { collapseSpaces, mapHeader, withoutAt, type ColumnMap } from './sheet-contract';
import { planMessages, settingsMessages } from './plan-messages';
import { validateRow, type ValidatedRow } from './row-validator';
import { checkDriveMedia, type DriveKnowledge } from './drive-media-check';
import { PLATFORM_RULES } from './platform-rules';
import { jitterSecondsFor } from './stable-jitter';
import { planStagger, type FixedSlot, type StaggerItem } from './stagger-planner';
import { buildSummary, type SummaryRow } from './dry-run-report';
import { localDate, localIso, localStamp, utcIso } from './local-time-format';
import { postBodyHash } from './post-body-hash';
import type { RowApproval } from './row-approval';

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
  /** The sheet status the ledger last recorded for the row's post (e.g. DRAFT), when it knows the post. */
  knownStatus?: string;
  /**
   * For a row that already has a post and is valid: the create body the row asks for now (its content, and its
   * edited Scheduled at or else its kept time). Reschedule PATCHes the post towards it; its hash tells CHANGED rows.
   */
  updateBody?: CreatePostBody;
  /** For a row sent under an approval (sheets with an Approved column): who the tick was seen from, and when (ms). */
  approval?: { approvedBy: string; approvedAt: number };
  /** A Postato draft whose row is not approved (unticked, or edited since): Publish leaves it a draft. */
  heldForApproval?: true;
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
  /** Approvals of the acted-on rows when the sheet has an Approved column; null or absent when it has none. */
  approvals?: Map<string, RowApproval> | null;
  /** Send as draft: nothing is delivered, so unapproved rows may be created as drafts for review in Postato. */
  asDrafts?: boolean;
  /** Metadata of the Drive files rows name (absent: not checked, e.g. planner unit tests). */
  drive?: DriveKnowledge;
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
    else notes.push(settingsMessages.startPassed(s.startAt, iso(startMs)));
  }
  return {
    startAt: iso(startMs),
    minGapMinutes: s.minGapMinutes ?? input.defaults.minGapMinutes,
    jitterSeconds: s.jitterSeconds ?? input.defaults.jitterSeconds,
    timeZone: s.timeZone ?? input.request.spreadsheetTimeZone,
  };
}

/** A row while it is being planned: the phases below fill it in, in order. */
interface Working {
  v: ValidatedRow;
  accountId?: string;
  postId?: string;
  /** What the ledger remembers about this row's post (absent when only the sheet has the Post ID). */
  known?: KnownPost;
  plannedMs?: number;
  timeSource?: RowVerdict['timeSource'];
  /** True once the stagger planner placed the row (a new post Publish would send). */
  planned: boolean;
}

/** Run-level notes the summary shows, in the order the phases add them. */
interface PlanNotes {
  warnings: string[];
  info: string[];
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
  const notes: PlanNotes = { warnings: [], info: [] };
  const settings = resolveSettings(input, notes.warnings);
  const map = readHeader(request.header, notes.info);
  const rows = validateRows(request.rows, map, settings.timeZone);
  const sheetPostIds = resolveKeys(rows, input.knownPosts);
  const accountsChecked = resolveAccounts(rows, input.accounts, notes.warnings);
  if (input.drive) checkDriveFiles(rows, input.drive);
  checkTimes(rows, nowMs, settings.minGapMinutes);
  placePosts(rows, { spreadsheetId: request.spreadsheetId, nowMs, settings });
  checkCaps(rows, notes.warnings);
  checkRepeatedContent(rows);
  const collisions = checkCollisions(rows, input.scheduledPosts, sheetPostIds, settings.minGapMinutes, notes.warnings);
  checkPacing(rows, nowMs, input.defaults, notes.warnings);
  const updates = planUpdates(rows, {
    nowMs,
    gapMs: settings.minGapMinutes * MINUTE,
    spreadsheetId: request.spreadsheetId,
    jitterSeconds: settings.jitterSeconds,
  });
  return buildPlan(rows, updates, {
    approvals: input.approvals ?? null,
    asDrafts: input.asDrafts ?? false,
    onlyKeys: request.onlyKeys,
    settings,
    notes,
    collisions: collisions ?? [],
    accountsChecked,
    collisionsChecked: collisions !== null,
    defaults: input.defaults,
  });
}

/** Phase 0: maps the header row; missing required columns stop the plan, ignored and repeated ones become notes. */
function readHeader(header: CellValue[], info: string[]): ColumnMap {
  const map = mapHeader(header);
  if (map.missing.length > 0) {
    throw new BadRequestError(
      settingsMessages.missingColumns(map.missing),
      { missing: map.missing },
      'missing_columns',
    );
  }
  if (map.unknown.length > 0) info.push(settingsMessages.unknownColumns(map.unknown));
  if (map.duplicates.length > 0) info.push(settingsMessages.duplicateColumns(map.duplicates));
  return map;
}

/** Phase 1: each row on its own (the validator); blank rows are dropped. */
function validateRows(input: PlanSheetInput['request']['rows'], map: ColumnMap, zone: string): Working[] {
  const rows: Working[] = [];
  for (const row of input) {
    const v = validateRow(row.rowNumber, row.values, map, zone);
    if (!v.blank) rows.push({ v, planned: false });
  }
  return rows;
}

/** Phase 1c: Drive files of rows still to post, against what Drive reports (type, size, length, readable). */
function checkDriveFiles(rows: Working[], drive: DriveKnowledge): void {
  for (const w of rows) if (!w.postId) w.v.messages.push(...checkDriveMedia(w.v, drive));
}

/**
 * Phase 2: keys, first use wins; each row's post from the sheet's Post ID or the ledger, whose time it keeps.
 * Sets postId, known, plannedMs and timeSource of rows with a post. Returns the post ids this sheet already holds.
 */
function resolveKeys(rows: Working[], knownPosts: Map<string, KnownPost>): Set<string> {
  const firstByKey = new Map<string, Working>();
  const sheetPostIds = new Set<string>();
  for (const w of rows) {
    const key = w.v.key;
    if (key !== null) {
      const first = firstByKey.get(key);
      if (first) w.v.messages.push(error('Key', planMessages.keyReused(key, first.v.rowNumber)));
      else firstByKey.set(key, w);
    }
    const known = key !== null && firstByKey.get(key) === w ? knownPosts.get(key) : undefined;
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
  return sheetPostIds;
}

/**
 * Phase 3: resolves each row's Account to a Postato account id (sets accountId) and flags unknown, mismatched and
 * disconnected accounts. Returns whether the accounts could be checked at all (`accounts` null: Postato did not say).
 */
function resolveAccounts(rows: Working[], accounts: PostatoAccount[] | null, warnings: string[]): boolean {
  if (accounts === null) warnings.push(planMessages.accountsUnchecked);
  // Indexed once (first match wins, as a linear find would) so each row looks its account up in constant time.
  const accountById = new Map<string, PostatoAccount>();
  const accountByName = new Map<string, PostatoAccount>();
  for (const a of accounts ?? []) {
    if (!accountById.has(a.id)) accountById.set(a.id, a);
    const name = `${a.platform}\u0000${withoutAt(a.username).toLowerCase()}`;
    if (!accountByName.has(name)) accountByName.set(name, a);
  }
  for (const w of rows) {
    const { platform } = w.v;
    if (!platform || !w.v.account) continue;
    if (!accounts) {
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
      const names = accounts.filter((a) => a.platform === platform).map((a) => `@${a.username}`);
      w.v.messages.push(error('Account', planMessages.accountUnknown(w.v.account, label, names)));
      w.accountId = w.v.account;
    } else if (acc.platform !== platform) {
      w.v.messages.push(error('Account', planMessages.accountWrongPlatform(acc.id, acc.username, acc.platform, label)));
      w.accountId = acc.id;
    } else if (acc.status !== 'connected') {
      w.v.messages.push(error('Account', planMessages.accountNotConnected(acc.username, acc.status)));
      w.accountId = acc.id;
    } else w.accountId = acc.id;
  }
  return accounts !== null;
}

/**
 * Phase 4: times of new posts on their own: past (error), more than a year away (warning), and "now" (placed at
 * `nowMs`, sets plannedMs and timeSource; two "now" rows of one account are flagged).
 */
function checkTimes(rows: Working[], nowMs: number, gapMinutes: number): void {
  const nowRows = new Map<string, Working>();
  for (const w of rows) {
    if (w.postId) continue;
    const t = w.v.time;
    if (t.kind === 'time') {
      if (t.utcMs < nowMs) w.v.messages.push(error('Scheduled at', planMessages.timeInPast(local(t.utcMs, w.v.zone))));
      else if (t.utcMs > nowMs + YEAR)
        w.v.messages.push(warn('Scheduled at', planMessages.timeFarAway(local(t.utcMs, w.v.zone))));
    } else if (t.kind === 'now' && w.accountId) {
      w.plannedMs = nowMs;
      w.timeSource = 'now';
      w.v.messages.push({ level: 'info', column: 'Scheduled at', message: planMessages.nowPublishes });
      const earlier = nowRows.get(w.accountId);
      if (earlier) w.v.messages.push(warn('Scheduled at', planMessages.nowTwice(earlier.v.rowNumber, gapMinutes)));
      else nowRows.set(w.accountId, w);
    }
  }
}

/**
 * Phase 5: places every new post in time (the stagger planner): a sheet time plus its jitter, or the next free
 * auto-slot, keeping the gap per account around posts that already have a time. Sets plannedMs, planned and
 * timeSource, and tells the user when a post moved.
 */
function placePosts(
  rows: Working[],
  o: { spreadsheetId: string; nowMs: number; settings: ResolvedPlanSettings },
): void {
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
    if (t.kind === 'error' || (t.kind === 'time' && t.utcMs < o.nowMs)) return;
    const jitterMs = jitterSecondsFor(o.spreadsheetId, w.v.key, o.settings.jitterSeconds) * 1000;
    items.push({
      id,
      sortKey: w.v.key,
      accountId: w.accountId,
      jitterMs,
      ...(t.kind === 'time' ? { desiredMs: t.utcMs } : {}),
    });
  });
  const gapMs = o.settings.minGapMinutes * MINUTE;
  const placements = planStagger({ items, fixed, startMs: Date.parse(o.settings.startAt), gapMs });
  for (const item of items) {
    const w = rows[item.id]!;
    const p = placements.get(item.id)!;
    w.plannedMs = p.ms;
    w.planned = true;
    w.timeSource = item.desiredMs === undefined ? 'auto' : 'sheet';
    if (p.moved) {
      const by = p.pushedBy !== undefined ? rows[p.pushedBy] : undefined;
      const minutes = Math.round((p.ms - item.desiredMs! - item.jitterMs) / MINUTE);
      const message = planMessages.movedLater(
        minutes,
        local(p.ms, w.v.zone),
        o.settings.minGapMinutes,
        by?.v.rowNumber,
      );
      w.v.messages.push(warn('Scheduled at', message));
    } else if (p.bumpedSeconds > 0) {
      w.v.messages.push({
        level: 'info',
        column: 'Scheduled at',
        message: planMessages.shiftedSeconds(p.bumpedSeconds),
      });
    }
  }
}

/**
 * Phase 7: collisions of placed posts with posts already scheduled in Postato (not those this sheet created).
 * Returns the collisions, or null when Postato's list of scheduled posts did not answer.
 */
function checkCollisions(
  rows: Working[],
  scheduledPosts: ScheduledPostSummary[] | null,
  sheetPostIds: Set<string>,
  gapMinutes: number,
  warnings: string[],
): DryRunSummary['collisions'] | null {
  if (scheduledPosts === null) {
    warnings.push(planMessages.collisionsUnchecked);
    return null;
  }
  const collisions: DryRunSummary['collisions'] = [];
  const byAccount = new Map<string, { ms: number; post: ScheduledPostSummary }[]>();
  for (const post of scheduledPosts) {
    if (sheetPostIds.has(post.id)) continue;
    const ms = Date.parse(post.scheduledAt);
    if (!Number.isFinite(ms)) continue;
    let list = byAccount.get(post.accountId);
    if (!list) byAccount.set(post.accountId, (list = []));
    list.push({ ms, post });
  }
  for (const list of byAccount.values()) list.sort((a, b) => a.ms - b.ms || (a.post.id < b.post.id ? -1 : 1));
  const window = Math.max(gapMinutes * MINUTE, 1000);
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
          warn('Scheduled at', planMessages.collidesWithPost(post.id, local(ms, w.v.zone), gapMinutes)),
        );
    }
  }
  if (collisions.length > 0) {
    const rowNumbers = [...new Set(collisions.map((c) => c.rowNumber))];
    warnings.push(planMessages.collisionsSummary(collisions.length, gapMinutes, rowNumbers));
  }
  return collisions;
}

/** Phase 8: pacing. Flags rows so soon that Publish, paced at the create limit, may create them after their time. */
function checkPacing(rows: Working[], nowMs: number, defaults: PlanDefaults, warnings: string[]): void {
  const intervalMs = defaults.windowMs / defaults.createLimit;
  const sendable = rows.filter((w) => !hasError(w) && !w.postId && w.v.key !== null && w.plannedMs !== undefined);
  const inOrder = [...sendable].sort((a, b) => a.plannedMs! - b.plannedMs! || a.v.rowNumber - b.v.rowNumber);
  const late: number[] = [];
  inOrder.forEach((w, i) => {
    if (w.timeSource === 'now') return;
    const createdBy = nowMs + (i + 1) * intervalMs + MINUTE;
    if (w.plannedMs! < createdBy) {
      late.push(w.v.rowNumber);
      w.v.messages.push(warn('Scheduled at', planMessages.tooSoonForPacing(local(w.plannedMs!, w.v.zone))));
    }
  });
  if (late.length > 0) warnings.push(planMessages.lateRowsSummary(late));
}

/** What a row that already has a post asks for now, and whether that differs from what was sent (CHANGED). */
type UpdateTarget = { body: CreatePostBody; changed: boolean };

/** Phase 9: the update target of every valid row with a post. */
function planUpdates(
  rows: Working[],
  o: { nowMs: number; gapMs: number; spreadsheetId: string; jitterSeconds: number },
): Map<Working, UpdateTarget> {
  const updates = new Map<Working, UpdateTarget>();
  for (const w of rows) {
    if (!w.postId || hasError(w) || w.v.key === null || !w.accountId) continue;
    const u = updateTarget(w, rows, o);
    if (u) updates.set(w, u);
  }
  return updates;
}

/**
 * Phase 10: verdicts, create and update bodies, and the summary, for the rows the run acts on (`onlyKeys`, or all).
 */
function buildPlan(
  rows: Working[],
  updates: Map<Working, UpdateTarget>,
  o: {
    approvals: Map<string, RowApproval> | null;
    asDrafts: boolean;
    onlyKeys: string[] | undefined;
    settings: ResolvedPlanSettings;
    notes: PlanNotes;
    collisions: DryRunSummary['collisions'];
    accountsChecked: boolean;
    collisionsChecked: boolean;
    defaults: PlanDefaults;
  },
): PlannedRun {
  const only = o.onlyKeys ? new Set(o.onlyKeys) : null;
  const planned: PlannedRow[] = [];
  const summaryRows: SummaryRow[] = [];
  const unapproved: NonNullable<DryRunSummary['unapproved']> = [];
  for (const w of rows) {
    if (only && (w.v.key === null || !only.has(w.v.key))) continue;
    const creates = !hasError(w) && !w.postId && w.v.key !== null && w.plannedMs !== undefined;
    const promotesDraft = !hasError(w) && w.postId !== undefined && w.v.key !== null && isDraftPost(w);
    // With an Approved column, only an approved row goes out: created, or (a draft from Send as draft) scheduled.
    // Send as draft itself delivers nothing, so it may create unapproved rows for review in Postato.
    const gated = !o.asDrafts && (creates || promotesDraft);
    const approval = o.approvals && gated ? (o.approvals.get(w.v.key!) ?? { state: 'unapproved' as const }) : null;
    if (approval && approval.state !== 'approved') {
      w.v.messages.push(
        warn(
          'Approved',
          approval.state === 'edited'
            ? planMessages.editedAfterApproval(approval.approvedBy ?? 'unknown', iso(approval.approvedAt ?? 0))
            : planMessages.notApproved,
        ),
      );
      unapproved.push({ rowNumber: w.v.rowNumber, key: w.v.key!, reason: approval.state });
    }
    const verdict = toVerdict(w);
    const row: PlannedRow = { rowNumber: w.v.rowNumber, key: w.v.key, verdict };
    if (w.postId) row.postId = w.postId;
    if (w.v.sheetStatus) row.sheetStatus = w.v.sheetStatus;
    if (w.known?.status) row.knownStatus = w.known.status;
    if (approval && approval.state !== 'approved' && promotesDraft) row.heldForApproval = true;
    if ((creates || promotesDraft) && approval?.approvedBy !== undefined && approval.approvedAt !== undefined)
      row.approval = { approvedBy: approval.approvedBy, approvedAt: approval.approvedAt };
    if (creates && (!approval || approval.state === 'approved')) row.body = toBody(w);
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
    warnings: o.notes.warnings,
    info: o.notes.info,
    collisions: o.collisions,
    accountsChecked: o.accountsChecked,
    collisionsChecked: o.collisionsChecked,
    createLimit: o.defaults.createLimit,
    windowMs: o.defaults.windowMs,
  });
  const changed = planned.filter((r) => r.verdict.changed).length;
  if (changed > 0) summary.changed = changed;
  if (o.approvals) summary.unapproved = unapproved;
  return { rows: planned, summary, settings: o.settings };
}

function local(ms: number, zone: string): string {
  return localStamp(ms, zone);
}

/** A row whose post the ledger (or, without a ledger record, the sheet) knows as a Postato draft. */
function isDraftPost(w: Working): boolean {
  return (w.known?.status ?? w.v.sheetStatus ?? '').toUpperCase() === 'DRAFT';
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
const FINAL_STATUSES = new Set([
  'PUBLISHED',
  'CANCELLED',
  'DELIVERY FAILED',
  'FAILED',
  'QUEUED',
  // Postato refuses edits of a post waiting for a reviewer, and a rejected post stays rejected.
  'PENDING APPROVAL',
  'REJECTED',
]);

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
    w.v.messages.push(warn(undefined, planMessages.editedButFinal(status)));
    return undefined;
  }
  if (atMs !== null && atMs < o.nowMs) {
    const edited = atMs !== w.plannedMs;
    w.v.messages.push(
      edited
        ? error('Scheduled at', planMessages.rescheduleInPast(local(atMs, w.v.zone)))
        : warn(undefined, planMessages.editedButDue),
    );
    return undefined;
  }
  w.v.messages.push({ level: 'info', message: planMessages.changed });
  return { body, changed: true };
}

/**
 * Whether the Scheduled at cell (placed at `placedMs`) no longer explains the post's kept time; `pushMs` is the gap
 * plus the jitter.
 */
function timeEdited(w: Working, placedMs: number, rows: Working[], pushMs: number): boolean {
  const kept = w.plannedMs!;
  const late = kept - placedMs;
  if (late >= 0 && late < MINUTE) return false;
  if (late < 0 || pushMs <= 0) return true;
  // Planning pushes a post one gap (plus its jitter) after the same account's previous post: such a neighbour
  // explains it.
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

/** Phase 6a: daily caps per platform, account and local day (posts over the cap are warned, the run notes them). */
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
      w.v.messages.push(warn('Scheduled at', planMessages.overDailyCap(rule.label, cap, cap + i + 1, accountId, day))),
    );
    const overRows = over.map((w) => w.v.rowNumber);
    warnings.push(planMessages.dailyCapSummary(rule.label, accountId, list.length, day, cap, overRows));
  }
}

/** Phase 6b: the same text to the same account less than a day apart (platforms reject or hide duplicates). */
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
        w.v.messages.push(warn('Content', planMessages.repeatedContent(prev.v.rowNumber)));
      }
    }
  }
}
