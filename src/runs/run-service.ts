/**
 * The run service: commits publish, reschedule and unschedule runs to the ledger (then wakes the dispatcher), and
 * reads and cancels runs for the status routes. A run is visible only to the identity that started it, and admins.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Identity } from './identity';
import { requireRunAccess } from './run-access';
import type {
  RunAccepted,
  RunRequest,
  RunState,
  RunStatusResponse,
  SheetStatus,
  RunMode,
} from '../../appsscript/shared/contract';
import { cellText, mapHeader } from '../plan/sheet-contract';
import type { PlanDefaults, PlannedRun, PlannedRow } from '../plan/sheet-planner';
import { canonicalJson, tenantIdFor } from './idempotency-key';
import type { KeyVault } from './key-vault';
import { bodyHash, UNSERIALISABLE } from './publish-step';
import type { NewRunRow, RunLedger, RunRecord } from '../ledger/run-ledger';
import { reportOf } from './run-report';

export interface RunServiceDeps {
  ledger: RunLedger;
  vault: KeyVault;
  clock: Clock;
  logger: Logger;
  /** Planner defaults (the same as the dry run's), used to compute reschedule targets. */
  planDefaults: PlanDefaults;
  /** Creation limit and window, for the ETA. */
  createLimit: number;
  windowMs: number;
  /** Wakes the dispatcher after a run is committed. */
  onRunCommitted?: (runId: string) => void;
  /** Throws unless the caller proved they can edit the run's spreadsheet (absent: the service has no Sheets access). */
  requireSheetProof?: (identity: Identity, spreadsheetId: string) => Promise<void>;
}

/** What the runs router hands over for publish, reschedule and unschedule. */
export interface StartRunArgs {
  identity: Identity;
  request: RunRequest;
  apiKey: string;
  planned: PlannedRun;
  /** The caller's Drive access token; sealed with the run only when a row to send names a Drive file. */
  driveToken?: string;
}

const RESULTS_PAGE = 500;

/** True for a row to send whose body names a Drive file (its token is then kept with the run). */
function namesDriveFile(row: NewRunRow): boolean {
  return row.state === 'pending' && !!row.bodyJson && row.bodyJson.includes('"driveFileId"');
}

function errorText(row: PlannedRow): string {
  const errors = row.verdict.messages.filter((m) => m.level === 'error').map((m) => m.message);
  return errors.join(' ') || 'This row has a problem; run the dry run to see it.';
}

/** Canonical JSON of a planned body, or null when it cannot be serialised (the row then ends FAILED, never a 500). */
function bodyText(body: unknown): string | null {
  try {
    return canonicalJson(body);
  } catch {
    return null;
  }
}

/** A row whose post the ledger (or, without a ledger record, the sheet) knows as a Postato draft. */
function isDraft(p: PlannedRun['rows'][number]): boolean {
  return p.postId !== undefined && (p.knownStatus ?? p.sheetStatus ?? '').toUpperCase() === 'DRAFT';
}

/** Creates the run service. */
export function createRunService(deps: RunServiceDeps) {
  const log = deps.logger.child({ component: 'run-service' });

  function inScope(request: RunRequest, key: string | null): key is string {
    if (key === null) return false;
    return !request.onlyKeys || request.onlyKeys.includes(key);
  }

  function publishRows(request: RunRequest, planned: PlannedRun): NewRunRow[] {
    const map = mapHeader(request.header);
    const sheetPostId = new Map<string, string>();
    for (const r of request.rows) {
      const key = cellText(r.values, map, 'Key');
      if (key) sheetPostId.set(key, cellText(r.values, map, 'Post ID'));
    }
    const out: NewRunRow[] = [];
    for (const p of planned.rows) {
      if (!inScope(request, p.key)) continue;
      const base = { rowKey: p.key, rowNumber: p.rowNumber };
      // Send as draft creates the very post Publish sends, held as a Postato draft (nothing is delivered).
      const body = p.body && request.mode === 'draft' ? { ...p.body, status: 'draft' as const } : p.body;
      const text = body ? bodyText(body) : null;
      if (body && text === null)
        out.push({
          ...base,
          kind: 'none',
          state: 'failed',
          sheetStatus: 'FAILED',
          error: UNSERIALISABLE,
          writeBack: true,
        });
      else if (text !== null)
        out.push({
          ...base,
          kind: 'create',
          state: 'pending',
          bodyJson: text,
          writeBack: false,
          ...(p.approval ? { approvedBy: p.approval.approvedBy, approvedAt: p.approval.approvedAt } : {}),
        });
      else if (
        request.mode === 'publish' &&
        isDraft(p) &&
        !p.heldForApproval &&
        p.updateBody &&
        bodyText(p.updateBody) !== null
      ) {
        // A draft made by Send as draft: Publish PATCHes that very post to scheduled (or publish), never creates again.
        out.push({
          ...base,
          kind: 'update',
          state: 'pending',
          postId: p.postId,
          bodyJson: bodyText(p.updateBody)!,
          writeBack: false,
          ...(p.approval ? { approvedBy: p.approval.approvedBy, approvedAt: p.approval.approvedAt } : {}),
        });
      } else if (request.mode === 'publish' && p.heldForApproval) {
        // A draft whose row is not approved (or was edited since) stays a draft; the Error cell says what to do.
        const why = p.verdict.messages.find((m) => m.column === 'Approved')?.message ?? 'Tick Approved to publish it.';
        out.push({
          ...base,
          kind: 'none',
          state: 'skipped',
          postId: p.postId,
          sheetStatus: 'DRAFT',
          error: why,
          writeBack: true,
        });
      } else if (p.postId) {
        // Already has a post. If the sheet lost its Post ID, the ledger's one is written back (restored), never re-created.
        const restored = !sheetPostId.get(p.key);
        out.push({ ...base, kind: 'none', state: 'skipped', postId: p.postId, sheetStatus: null, writeBack: restored });
      } else if (p.verdict.status === 'INVALID') {
        out.push({
          ...base,
          kind: 'none',
          state: 'skipped',
          sheetStatus: 'INVALID',
          error: errorText(p),
          writeBack: true,
        });
      } else {
        const why = p.verdict.messages.find((m) => m.level !== 'info')?.message ?? 'Nothing to send for this row.';
        out.push({ ...base, kind: 'none', state: 'skipped', sheetStatus: 'SKIPPED', error: why, writeBack: true });
      }
    }
    return out;
  }

  async function rescheduleRows(request: RunRequest, planned: PlannedRun, tenantId: string): Promise<NewRunRow[]> {
    // The planner gives each row with a post the body it asks for now (updateBody): the same body whose hash makes the
    // dry run say CHANGED, so Reschedule updates exactly those rows (and rows only the sheet knows, checked at Postato).
    const withPost = planned.rows.filter((p) => inScope(request, p.key) && p.postId);
    const known = new Map(
      (
        await deps.ledger.knownPostsFor(
          { tenantId, workspaceId: request.workspaceId },
          request.spreadsheetId,
          withPost.map((p) => p.key!),
        )
      ).map((k) => [k.row_key, k]),
    );
    const out: NewRunRow[] = [];
    for (const p of withPost) {
      const base = { rowKey: p.key!, rowNumber: p.rowNumber, postId: p.postId! };
      if (!p.updateBody) {
        // Invalid rows are reported; posts that can no longer change (published, cancelled, due) are left alone.
        if (p.verdict.status === 'INVALID')
          out.push({
            ...base,
            kind: 'none',
            state: 'skipped',
            sheetStatus: 'FAILED',
            error: `Not rescheduled: ${errorText(p)}`,
            writeBack: true,
          });
        continue;
      }
      const text = bodyText(p.updateBody);
      if (text === null) {
        out.push({
          ...base,
          kind: 'none',
          state: 'failed',
          sheetStatus: 'FAILED',
          error: `Not rescheduled: ${UNSERIALISABLE}`,
          writeBack: true,
        });
        continue;
      }
      const k = known.get(p.key!);
      if (k && k.post_id === p.postId && k.body_hash === bodyHash(text)) continue; // unchanged since we last sent it
      out.push({ ...base, kind: 'update', state: 'pending', bodyJson: text, writeBack: false });
    }
    return out;
  }

  function unscheduleRows(request: RunRequest, planned: PlannedRun): NewRunRow[] {
    return planned.rows
      .filter((p) => inScope(request, p.key) && p.postId)
      .map((p) => ({
        rowKey: p.key!,
        rowNumber: p.rowNumber,
        postId: p.postId!,
        kind: 'cancel' as const,
        state: 'pending' as const,
        writeBack: false,
      }));
  }

  /** Commits a publish, reschedule or unschedule run and answers at once; the dispatcher does the sending. */
  async function startRun({ identity, request, apiKey, planned, driveToken }: StartRunArgs): Promise<RunAccepted> {
    const tenantId = tenantIdFor(apiKey);
    const rows =
      request.mode === 'publish' || request.mode === 'draft'
        ? publishRows(request, planned)
        : request.mode === 'reschedule'
          ? await rescheduleRows(request, planned, tenantId)
          : unscheduleRows(request, planned);
    // Planning and building a large run's rows took one stretch of CPU: the dispatcher gets a turn before the commit.
    await nextTurn();
    const { runId, joined } = await deps.ledger.createRun({
      ownerSubject: identity.subject,
      mode: request.mode,
      spreadsheetId: request.spreadsheetId,
      sheetName: request.sheetName,
      sheetId: request.sheetId,
      workspaceId: request.workspaceId,
      tenantId,
      apiKeySealed: deps.vault.encrypt(apiKey),
      // Like the API key: sealed at rest only while the run needs it, erased when it ends; never logged.
      driveTokenSealed: driveToken && rows.some(namesDriveFile) ? deps.vault.encrypt(driveToken) : null,
      summaryJson: JSON.stringify(planned.summary),
      rows,
    });
    log.info(
      {
        runId,
        joined,
        mode: request.mode,
        rows: rows.length,
        toSend: rows.filter((r) => r.state === 'pending').length,
      },
      'run committed',
    );
    deps.onRunCommitted?.(runId);
    return { runId, joined, summary: planned.summary };
  }

  async function visibleRun(identity: Identity, runId: string): Promise<RunRecord> {
    const run = await deps.ledger.getRun(runId);
    requireRunAccess(identity, run ? { ownerSubject: run.owner_subject } : undefined);
    // Only after the owner check: anyone else gets the 404 of a missing run, whatever the spreadsheet.
    await deps.requireSheetProof?.(identity, run!.spreadsheet_id);
    return run!;
  }

  /** Progress of a run, with the row results that changed after `since` (the cursor of the previous answer). */
  async function getStatus(identity: Identity, runId: string, since?: string): Promise<RunStatusResponse> {
    const run = await visibleRun(identity, runId);
    const after = since && /^\d+$/.test(since) ? Number(since) : 0;
    const [counts, page, access] = await Promise.all([
      deps.ledger.counts(runId),
      deps.ledger.resultsSince(runId, after, RESULTS_PAGE),
      deps.ledger.sheetAccess(run.spreadsheet_id),
    ]);
    const res: RunStatusResponse = {
      runId,
      mode: run.mode as RunMode,
      state: run.state as RunState,
      spreadsheetId: run.spreadsheet_id,
      sheetName: run.sheet_name,
      counts,
      startedAt: new Date(Number(run.started_at)).toISOString(),
      results: page.results,
      cursor: String(page.cursor),
    };
    if (run.finished_at !== null) res.finishedAt = new Date(Number(run.finished_at)).toISOString();
    if (run.state === 'running' || run.state === 'queued') {
      // The pacer lets a full window's worth go at once, then one window per `limit` rows.
      const left = counts.pending;
      res.etaSeconds = Math.ceil(
        (Math.max(0, Math.ceil(left / deps.createLimit) - 1) * deps.windowMs) / 1000 + left * 0.05,
      );
    } else res.etaSeconds = 0;
    // Once the run has ended the sidebar shows its report; computing it here saves the add-on a second call.
    if (run.finished_at !== null) res.report = await reportOf(deps.ledger, run, deps.clock.now());
    if (access) res.sheetAccess = access;
    return res;
  }

  /** Cancels a run: nothing more is sent; what was created stays created. */
  async function cancel(identity: Identity, runId: string): Promise<RunStatusResponse> {
    await visibleRun(identity, runId);
    if (await deps.ledger.cancelRun(runId)) log.info({ runId }, 'run cancelled');
    return getStatus(identity, runId);
  }

  /** Checks access to a run (for routes that act on it, e.g. sync). */
  async function assertVisible(identity: Identity, runId: string): Promise<void> {
    await visibleRun(identity, runId);
  }

  return { startRun, getStatus, cancel, assertVisible };
}

/** The run service's public shape. */
export type RunService = ReturnType<typeof createRunService>;

/** Sheet status words a finished row may show (for callers that map them). */
export type { SheetStatus };
