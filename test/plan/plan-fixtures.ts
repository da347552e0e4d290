/** Builders for planner tests: a sheet with the contract's header and rows given as column → value objects. */
import type { CellValue, RunRequest } from '../../appsscript/shared/contract';
import { planSheet, type PlanSheetInput, type PlannedRun } from '../../src/plan/sheet-planner';
import type { KnownPost, PostatoAccount, ScheduledPostSummary } from '../../src/plan/dry-run-ports';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';

/** The sheet contract's full header: input columns, then output columns. */
export const HEADER: string[] = [...INPUT_COLUMNS, ...OUTPUT_COLUMNS];

/** 2025-06-02T12:00:00Z, a Monday, well away from any DST change in the zones under test. */
export const NOW = Date.UTC(2025, 5, 2, 12, 0, 0);

export type RowSpec = Partial<Record<(typeof HEADER)[number], CellValue>>;

/** Turns column → value objects into sheet rows starting at row 2. */
export function sheetRows(specs: RowSpec[]): RunRequest['rows'] {
  return specs.map((spec, i) => ({ rowNumber: i + 2, values: HEADER.map((h) => spec[h] ?? '') }));
}

export function request(specs: RowSpec[], extra: Partial<RunRequest> = {}): RunRequest {
  return {
    mode: 'dry-run',
    spreadsheetId: 'sheet-1',
    sheetName: 'Posts',
    sheetId: 0,
    spreadsheetTimeZone: 'America/New_York',
    workspaceId: 'wks_1',
    header: HEADER,
    rows: sheetRows(specs),
    ...extra,
  };
}

export interface PlanOptions {
  now?: number;
  accounts?: PostatoAccount[] | null;
  scheduledPosts?: ScheduledPostSummary[] | null;
  knownPosts?: Map<string, KnownPost>;
  extra?: Partial<RunRequest>;
}

export function plan(specs: RowSpec[], o: PlanOptions = {}): PlannedRun {
  const input: PlanSheetInput = {
    request: request(specs, o.extra),
    nowMs: o.now ?? NOW,
    defaults: { minGapMinutes: 15, jitterSeconds: 90, createLimit: 120, windowMs: 60_000 },
    accounts: o.accounts === undefined ? null : o.accounts,
    scheduledPosts: o.scheduledPosts === undefined ? null : o.scheduledPosts,
    knownPosts: o.knownPosts ?? new Map(),
  };
  return planSheet(input);
}

/** A good X row. */
export function tweet(key: string, extra: RowSpec = {}): RowSpec {
  return { Key: key, Platform: 'x', Account: 'acc_x1', Content: `Hello from ${key}`, ...extra };
}

export function messagesOf(run: PlannedRun, rowIndex: number): string {
  return run.rows[rowIndex]!.verdict.messages.map((m) => m.message).join(' | ');
}
