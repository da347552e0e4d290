/**
 * The ledger: the one owner of the database. Committing a run, claiming due rows with leases, recording every attempt
 * before and after its call and its outcome, progress, write-back, webhooks, reports, metrics and purging are its
 * intent-level methods; no query handle leaves this folder. Written in portable kysely, so the same code runs on
 * SQLite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  PostgresAdapter,
  sql,
  type CompiledQuery,
  type ExpressionBuilder,
  type Kysely,
  type Transaction,
} from 'kysely';
import type { RunMode } from './ledger-schema';
import type { Clock } from '../clock';
import { ConflictError } from '../errors';
import type { SheetStatus, RunCounts, RowResult, RunState } from '../../appsscript/shared/contract';
import type { ApprovalPort, KnownPost, KnownPostsPort, TenantScope } from '../plan/dry-run-ports';
import type { WriteBackStore } from '../sheets/write-back-store';
import type { WebhookEventSink, WebhookSecretStore } from '../webhooks/webhook-event-sink';
import {
  ACTIVE_RUN_STATES,
  IN_DOUBT_OUTCOMES,
  TO_SEND_STATES,
  type AttemptOutcome,
  type LedgerDatabase,
  type RowKind,
  type RowState,
  type RunRowsTable,
  type RunsTable,
} from './ledger-schema';
import { createWriteBackQueries, sheetAccessIn, writesWaitingIn } from './write-back-queries';
import {
  createWebhookSecretQueries,
  createWebhookSink,
  type SecretSealer,
  type WebhookLedgerSink,
} from './webhook-queries';
import type { ParkingLimits } from './parked-webhook-events';
import { createOpsQueries, type LedgerGauges, type ReportRows, type RunSummaryRecord } from './ops-queries';
import { createApprovalQueries } from './approval-queries';
import { createStatusRefreshQueries, type StatusRefreshStore } from './status-refresh-queries';
import { createInstanceRegistry, type InstanceRegistry } from './instance-registry';
import { createDriveMediaStore, type DriveMediaStore } from './drive-media-queries';
import { createSheetProofQueries, type SheetProofStore } from './sheet-proof-queries';
import { WriteGroup } from './write-group';
import { QueryShapes } from './query-shapes';

export { ACTIVE_RUN_STATES };
export type { LedgerGauges, ReportRows, RunSummaryRecord, InstanceRegistry, DriveMediaStore };
export type { DriveFileScope, UploadClaim, UploadLease } from './drive-media-queries';

type Db = Kysely<LedgerDatabase> | Transaction<LedgerDatabase>;

/** One row of a run as it is committed. */
export interface NewRunRow {
  rowKey: string;
  rowNumber: number | null;
  kind: RowKind;
  state: Extract<RowState, 'pending' | 'skipped' | 'failed'>;
  bodyJson?: string;
  postId?: string;
  /** Result shown in the sheet from the start (INVALID rows, restored Post IDs); absent = nothing to write yet. */
  sheetStatus?: SheetStatus | null;
  error?: string;
  scheduledAt?: string;
  /** True when this initial result must be written to the sheet. */
  writeBack: boolean;
  /** Sheets with an Approved column: who the approval of this row's content was seen from, and when (ms). */
  approvedBy?: string;
  approvedAt?: number;
}

/** A run as it is committed. */
export interface NewRun {
  ownerSubject: string;
  mode: RunMode;
  spreadsheetId: string;
  sheetName: string;
  sheetId: number;
  workspaceId: string;
  tenantId: string;
  apiKeySealed: string | null;
  /** The caller's Drive access token, sealed (only when a row names a Drive file); a joined run takes the fresh one. */
  driveTokenSealed?: string | null;
  summaryJson?: string;
  rows: NewRunRow[];
}

export type RunRecord = RunsTable;
export type RunRowRecord = RunRowsTable;

/** A change of a row's result; every change bumps its version and its place in the status cursor. */
export interface ResultChange {
  state: RowState;
  sheetStatus?: SheetStatus | null;
  postId?: string | null;
  error?: string | null;
  scheduledAt?: string | null;
  link?: string | null;
  /** Leave the row's lease alone: a delivery event may arrive while a worker holds the row (e.g. a PATCH in flight). */
  keepLease?: boolean;
  /**
   * Only while the row is still to send: a worker that took over an expired lease may find the post that the first
   * worker has just recorded, and must not turn that row's result into its own "skipped".
   */
  onlyWhileToSend?: boolean;
  /**
   * Only while the row is still to send and still held by this claim (its lease owner, null when unleased): a worker
   * whose lease was taken over while its call was in flight may learn of a failure after the other worker recorded the
   * post, and must not turn that created row into a failure.
   */
  heldBy?: Pick<RunRowRecord, 'lease_owner'>;
  /**
   * Only while the row still has this state and version: a change decided from the row as read (a webhook event, a
   * status refresh) must not land on a result written since by a concurrent transaction (PostgreSQL), with stale data.
   */
  unchangedSince?: Pick<RunRowRecord, 'state' | 'version'>;
}

const INSERT_CHUNK = 400;

/** A runs-tab take this old that never finished was left by a crash (a try takes seconds, retries included). */
export const RUN_TAB_RECLAIM_MS = 15 * 60_000;
/** Tries at a run's tab row before it is given up (a sheet deleted or unshared fails every time). */
export const RUN_TAB_MAX_TRIES = 5;

/**
 * The tenant's other attempts of the same sheet row whose outcome is still in doubt: what a definite answer to
 * `attemptId` resolves (finishAttempt, and recordSuccess's one statement on PostgreSQL).
 */
function otherInDoubtAttempts(
  eb: ExpressionBuilder<LedgerDatabase, 'attempts'>,
  row: Pick<RunRowRecord, 'tenant_id' | 'workspace_id' | 'spreadsheet_id' | 'row_key'>,
  attemptId: string,
) {
  return eb.and([
    eb('tenant_id', '=', row.tenant_id),
    eb('workspace_id', '=', row.workspace_id),
    eb('spreadsheet_id', '=', row.spreadsheet_id),
    eb('row_key', '=', row.row_key),
    eb('id', '!=', attemptId),
    eb('outcome', 'in', [...IN_DOUBT_OUTCOMES]),
  ]);
}

/**
 * The attempt is still in flight. Only such an attempt is finished: outcomes move forward (in flight → final or in
 * doubt; in doubt → resolved, by otherInDoubtAttempts), so a late finish (a call that timed out after a takeover's
 * replay succeeded and resolved it, or a second finish of the same attempt) never puts a settled attempt back in doubt.
 */
function inFlight(eb: ExpressionBuilder<LedgerDatabase, 'attempts'>) {
  return eb('outcome', '=', 'pending');
}

/**
 * The condition "this row's lease may be taken": no lease, an expired lease, or (when `staleBefore` is given) a lease
 * whose owner's heartbeat is older than `staleBefore` or who is not registered at all (crashed, or stopped).
 * One correlated NOT EXISTS, so it fits in a single conditional UPDATE on SQLite and PostgreSQL alike.
 */
function leaseFree(eb: ExpressionBuilder<LedgerDatabase, 'run_rows'>, now: number, staleBefore?: number) {
  const free = [eb('run_rows.lease_until', 'is', null), eb('run_rows.lease_until', '<', now)];
  if (staleBefore !== undefined) {
    free.push(
      eb.not(
        eb.exists(
          eb
            .selectFrom('dispatcher_instances')
            .select('dispatcher_instances.owner_id')
            .whereRef('dispatcher_instances.owner_id', '=', 'run_rows.lease_owner')
            .where('dispatcher_instances.heartbeat_at', '>=', staleBefore),
        ),
      ),
    );
  }
  return eb.or(free);
}

/** The row is still to send and its lease owner is still the claim's (both unleased when the claim had no lease). */
function heldByClaim(eb: ExpressionBuilder<LedgerDatabase, 'run_rows'>, claim: Pick<RunRowRecord, 'lease_owner'>) {
  return eb.and([
    eb('run_rows.state', 'in', [...TO_SEND_STATES]),
    claim.lease_owner === null
      ? eb('run_rows.lease_owner', 'is', null)
      : eb('run_rows.lease_owner', '=', claim.lease_owner),
  ]);
}

/**
 * A row's state as an expression no index can serve (`state || ''`, the same text on SQLite and PostgreSQL). For
 * re-checks of rows already picked by id: without table statistics SQLite takes `state = ?` on run_rows_due for more
 * selective than a few primary-key lookups, and would walk every pending row of every tenant to claim 16 of them.
 */
function unindexedState() {
  return sql<RowState>`(${sql.ref('run_rows.state')} || '')`;
}

/**
 * The one claim predicate: the row is to be sent now (pending and due, or left sending by a call whose outcome is
 * not recorded) and its lease may be taken. `byId`: the rows are named by id, so the state is only re-checked.
 */
function claimable(
  eb: ExpressionBuilder<LedgerDatabase, 'run_rows'>,
  now: number,
  staleBefore?: number,
  o: { byId?: boolean } = {},
) {
  const state = o.byId ? unindexedState() : eb.ref('state');
  return eb.and([
    eb.or([eb.and([eb(state, '=', 'pending'), eb('next_attempt_at', '<=', now)]), eb(state, '=', 'sending')]),
    leaseFree(eb, now, staleBefore),
  ]);
}

/** What a dispatcher needs of a row to enqueue it: its id, when it is due, its rank in its run and its tenant. */
export type RowToEnqueue = Pick<RunRowRecord, 'id' | 'state' | 'next_attempt_at' | 'ordinal' | 'tenant_id'>;

const ENQUEUE_COLUMNS = ['id', 'state', 'next_attempt_at', 'ordinal', 'tenant_id'] as const;

/** What a successful call changes at once: its attempt, the post memory of the row, and the row's result. */
export interface SuccessRecord {
  /** The attempt that succeeded (absent when no call was needed, e.g. Postato already held the content). */
  attempt?: { id: string; httpStatus: number };
  /** The post of the sheet row to remember (so no later run of the tenant creates it again). */
  post: { postId: string; bodyHash?: string | null; scheduledAt?: string | null; status?: string | null };
  result: ResultChange;
}

/** The post of a tenant's sheet row, as the ledger remembers it. */
export interface RememberedPost {
  tenantId: string;
  spreadsheetId: string;
  rowKey: string;
  postId: string;
  workspaceId: string;
  bodyHash?: string | null;
  scheduledAt?: string | null;
  status?: string | null;
}

/** The tenant scope a run row belongs to. */
export function scopeOfRow(row: Pick<RunRowsTable, 'tenant_id' | 'workspace_id'>): TenantScope {
  return { tenantId: row.tenant_id, workspaceId: row.workspace_id };
}

/** Unguessable run ids: 128 random bits. */
export function newRunId(): string {
  return 'run_' + randomBytes(16).toString('base64url');
}

/** Sheet statuses of rows skipped because the user must fix them; they count as failed. */
const UNSENT_FAILURES = new Set(['INVALID', 'FAILED']);

/** How the ledger reports a failure it does not throw. */
export type LedgerWarning = (err: unknown, message: string) => void;

/** The ledger of runs, rows, attempts, posts and webhook events. */
export class RunLedger {
  /** The write-back's view: results not yet in their sheets (src/sheets depends on the port only). */
  readonly writeBack: WriteBackStore;
  /** Verified Postato delivery events land here (parked until their post is recorded). */
  readonly webhookSink: WebhookEventSink;
  private readonly webhookEvents: WebhookLedgerSink;
  /** Told of a failure the caller must not see (the write it followed was committed). */
  private readonly warn: LedgerWarning;
  /** Heartbeats of dispatcher instances (a stale or missing one frees its leases). */
  readonly instances: InstanceRegistry;
  /** Posts that may still move at Postato, and applying what a status refresh read about them. */
  readonly statusRefresh: StatusRefreshStore;
  /** Drive files uploaded to Postato, per tenant, workspace, file and version (uploaded once, claimed by lease). */
  readonly driveMedia: DriveMediaStore;
  /** Approvals of sheet rows (the optional Approved column), recorded and checked when a plan is made. */
  readonly approvals: ApprovalPort;
  /** Challenges and bindings of the proof of access to spreadsheets. */
  readonly sheetProofs: SheetProofStore;
  private readonly ops: ReturnType<typeof createOpsQueries>;
  /** The dispatch path's writes (attempts, outcomes, releases, run ends), committed in groups. */
  private readonly writes: WriteGroup;
  /**
   * PostgreSQL: the hot writes of a call (its attempt, its success) are each one statement with data-modifying CTEs,
   * one round trip and no transaction held open across round trips (which would hold the result counter's row lock
   * while other instances wait for it).
   */
  private readonly oneStatementWrites: boolean;
  /** The dispatch path's queries, compiled once per shape (query-shapes.ts). */
  private readonly shapes = new QueryShapes<LedgerDatabase>();

  constructor(
    private readonly db: Kysely<LedgerDatabase>,
    private readonly clock: Clock,
    /** Group commit of the dispatch path's writes (SQLite, one writer: saves a transaction per write). */
    o: { groupWrites?: boolean; parkedWebhookEvents?: ParkingLimits; onWarning?: LedgerWarning } = {},
  ) {
    this.warn = o.onWarning ?? ((err, message) => process.emitWarning(`${message}: ${(err as Error)?.message}`));
    this.writeBack = createWriteBackQueries(db, clock);
    const setResultIn = (trx: Db, rowId: string, change: ResultChange) => this.setResultIn(trx, rowId, change);
    this.webhookSink = this.webhookEvents = createWebhookSink(db, clock, setResultIn, o.parkedWebhookEvents, this.warn);
    this.instances = createInstanceRegistry(db);
    this.approvals = createApprovalQueries(db, clock);
    this.statusRefresh = createStatusRefreshQueries(db, clock, setResultIn);
    this.driveMedia = createDriveMediaStore(db, clock);
    this.sheetProofs = createSheetProofQueries(db);
    this.ops = createOpsQueries(db);
    this.writes = new WriteGroup(db, o.groupWrites ?? false);
    this.oneStatementWrites = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /** The webhook secret store; `vault` seals secrets at rest (pass it only with a durable key). */
  webhookSecrets(vault?: SecretSealer): WebhookSecretStore {
    return createWebhookSecretQueries(this.db, this.clock, vault);
  }

  /** The dry run's and publish's view of posts the ledger knows, per tenant. */
  knownPostsPort(): KnownPostsPort {
    return {
      knownPosts: async (scope, spreadsheetId, rowKeys) => {
        const map = new Map<string, KnownPost>();
        for (const p of await this.knownPostsFor(scope, spreadsheetId, rowKeys)) {
          map.set(p.row_key, {
            rowKey: p.row_key,
            postId: p.post_id,
            ...(p.scheduled_at ? { scheduledAt: p.scheduled_at } : {}),
            ...(p.body_hash ? { bodyHash: p.body_hash } : {}),
            ...(p.status ? { status: p.status } : {}),
          });
        }
        return map;
      },
    };
  }

  /** What the write-back last recorded about a spreadsheet's access, if anything. */
  sheetAccess(spreadsheetId: string): Promise<{ ok: boolean; message?: string } | undefined> {
    return sheetAccessIn(this.db, spreadsheetId);
  }

  /** Results of a run not yet written into its sheet. */
  writesWaiting(runId: string): Promise<number> {
    return writesWaitingIn(this.db, runId);
  }

  /** The rows a run report lists: failed ones (and their total) and ones removed from the sheet. */
  reportRows(runId: string, limit: number): Promise<ReportRows> {
    return this.ops.reportRows(runId, limit);
  }

  /** Newest runs first (the ops command line). */
  listRuns(o: { limit: number; state?: string }): Promise<RunSummaryRecord[]> {
    return this.ops.listRuns(o);
  }

  /** Gauges for /metrics: rows waiting per tenant, the oldest result not yet in its sheet. */
  gauges(): Promise<LedgerGauges> {
    return this.ops.gauges();
  }

  /** How many ended runs finished before `cutoff` may be purged, and how many are kept for an attempt in doubt. */
  purgeCounts(cutoff: number): Promise<{ purgeable: number; keptUnresolved: number }> {
    return this.ops.purgeCounts(cutoff);
  }

  /**
   * Applies webhook events parked for posts that rows of their workspace have by now, though nothing applied them (a
   * crash or failure right after the post was recorded, or a post id recorded by a path that applies nothing parked).
   * Looks at up to `scan` parked events per call (the next call goes on from there); answers how many it applied.
   * Every dispatcher instance runs it every few seconds.
   */
  applyParkedWebhookEvents(scan = 500): Promise<number> {
    return this.webhookEvents.applyParkedOfRecordedPosts(scan);
  }

  /** Deletes the webhook events parked longer than their age limit (their post was never recorded). */
  purgeExpiredWebhookEvents(nowMs: number): Promise<number> {
    return this.webhookEvents.purgeExpiredParked(nowMs);
  }

  /** Deletes up to `batchSize` purgeable runs with their rows and attempts (never posts_by_row); returns the count. */
  purgeBatch(cutoff: number, batchSize: number): Promise<number> {
    return this.ops.purgeBatch(cutoff, batchSize);
  }

  /** Answers when the database does (the readiness probe). */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Allocates `n` consecutive result sequence numbers and returns the first. */
  private async allocateSeq(trx: Db, n = 1): Promise<number> {
    const { rows } = await this.shapes.execute(trx, 'allocateSeq', { n }, (db, p) =>
      db
        .updateTable('counters')
        .set((eb) => ({ value: eb('value', '+', p<number>('n')) }))
        .where('name', '=', 'result_seq')
        .returning('value'),
    );
    if (!rows[0]) throw new Error('The ledger has no result_seq counter.');
    return Number(rows[0].value) - n + 1;
  }

  /**
   * Commits a run and all its rows in one transaction. A second active run of the same spreadsheet by the same tenant
   * is refused, unless it is the same caller asking for the same mode: then the request joins the running one. Runs
   * of other tenants naming the same spreadsheet id are not looked at: they neither lock nor can be joined.
   */
  async createRun(input: NewRun): Promise<{ runId: string; joined: boolean }> {
    try {
      return await this.createRunOnce(input);
    } catch (err) {
      // Two publishes of one sheet at the same instant on PostgreSQL: both saw no active run and the second hit the
      // active_sheets key. Looking again now finds the first, so the request joins it or gets the clear refusal.
      if (!isUniqueViolation(err)) throw err;
      return this.createRunOnce(input);
    }
  }

  private async createRunOnce(input: NewRun): Promise<{ runId: string; joined: boolean }> {
    const now = this.clock.now();
    // The rows' first result numbers are taken before the transaction, in a statement of their own: taken inside, the
    // counter's row lock would last while hundreds of rows are inserted, and every other run's commit and every
    // recorded result (all of them need that counter) would queue behind it, each holding a pooled connection; 100
    // runs committed at once then starved the whole process (PostgreSQL). Numbers taken now are below any later result
    // of this run's rows, which is all a run's cursor needs; a run that is refused or joined leaves a harmless gap.
    const firstSeq = input.rows.length > 0 ? await this.allocateSeq(this.db, input.rows.length) : 0;
    const runId = newRunId();
    const rowInserts = await this.compileRowInserts(input, runId, firstSeq, now);
    return this.db.transaction().execute(async (trx) => {
      const active = await trx
        .selectFrom('active_sheets')
        .innerJoin('runs', 'runs.id', 'active_sheets.run_id')
        .select(['runs.id', 'runs.state', 'runs.mode', 'runs.owner_subject'])
        .where('active_sheets.tenant_id', '=', input.tenantId)
        .where('active_sheets.workspace_id', '=', input.workspaceId)
        .where('active_sheets.spreadsheet_id', '=', input.spreadsheetId)
        .executeTakeFirst();
      if (active && (ACTIVE_RUN_STATES as readonly RunState[]).includes(active.state)) {
        if (active.owner_subject === input.ownerSubject && active.mode === input.mode) {
          // Joining is only honest when the running run covers every row this request wants sent.
          const wanted = input.rows.filter((r) => r.state === 'pending').map((r) => r.rowKey);
          const covered = new Set(
            (await trx.selectFrom('run_rows').select('row_key').where('run_id', '=', active.id).execute()).map(
              (r) => r.row_key,
            ),
          );
          const missing = wanted.filter((k) => !covered.has(k));
          if (missing.length === 0) {
            if (input.driveTokenSealed)
              await trx
                .updateTable('runs')
                .set({ drive_token_sealed: input.driveTokenSealed })
                .where('id', '=', active.id)
                .execute();
            return { runId: active.id, joined: true };
          }
          throw new ConflictError(
            `A ${active.mode} run of this spreadsheet is still going and does not include ${missing.length === 1 ? 'row' : 'rows'} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}. Wait for it to finish, then run again.`,
            'run_in_progress',
            { runId: active.id },
          );
        }
        throw new ConflictError(
          `This spreadsheet already has a ${active.mode} run in progress. Wait for it to finish (or cancel it) before starting a ${input.mode}.`,
          'run_in_progress',
          active.owner_subject === input.ownerSubject ? { runId: active.id } : undefined,
        );
      }
      if (active) await trx.deleteFrom('active_sheets').where('run_id', '=', active.id).execute();

      const hasWork = input.rows.some((r) => r.state === 'pending');
      await trx
        .insertInto('runs')
        .values({
          id: runId,
          owner_subject: input.ownerSubject,
          mode: input.mode,
          state: hasWork ? 'running' : 'done',
          spreadsheet_id: input.spreadsheetId,
          sheet_name: input.sheetName,
          sheet_id: input.sheetId,
          workspace_id: input.workspaceId,
          tenant_id: input.tenantId,
          api_key_sealed: hasWork ? input.apiKeySealed : null,
          drive_token_sealed: hasWork ? (input.driveTokenSealed ?? null) : null,
          total: input.rows.length,
          summary_json: input.summaryJson ?? null,
          created_at: now,
          started_at: now,
          finished_at: hasWork ? null : now,
          tab_due: 1,
          tab_tries: 0,
        })
        .execute();
      if (hasWork)
        await trx
          .insertInto('active_sheets')
          .values({
            tenant_id: input.tenantId,
            workspace_id: input.workspaceId,
            spreadsheet_id: input.spreadsheetId,
            run_id: runId,
            created_at: now,
          })
          .execute();

      // No pause between chunks here: on SQLite the transaction holds the one connection, and other requests' CPU
      // work run in a pause would only keep every recording of the dispatcher waiting longer.
      for (const insert of rowInserts) await trx.executeQuery(insert);
      return { runId, joined: false };
    });
  }

  /**
   * A run's row inserts, built and compiled before its transaction, one chunk per turn of the event loop: a 5,000-row
   * run then neither holds the connection nor blocks the dispatcher while kysely builds 140,000 parameters.
   */
  private async compileRowInserts(
    input: NewRun,
    runId: string,
    firstSeq: number,
    now: number,
  ): Promise<CompiledQuery[]> {
    const inserts: CompiledQuery[] = [];
    for (let i = 0; i < input.rows.length; i += INSERT_CHUNK) {
      if (i > 0) await nextTurn();
      const chunk = input.rows.slice(i, i + INSERT_CHUNK).map((r, j) => {
        const ordinal = i + j;
        return {
          id: `${runId}:${ordinal}`,
          run_id: runId,
          ordinal,
          spreadsheet_id: input.spreadsheetId,
          tenant_id: input.tenantId,
          workspace_id: input.workspaceId,
          row_key: r.rowKey,
          row_number: r.rowNumber,
          kind: r.kind,
          state: r.state,
          body_json: r.bodyJson ?? null,
          post_id: r.postId ?? null,
          failures: 0,
          sent: 0,
          next_attempt_at: now,
          lease_owner: null,
          lease_until: null,
          sheet_status: r.sheetStatus ?? null,
          error: r.error ?? null,
          scheduled_at: r.scheduledAt ?? null,
          link: null,
          result_seq: firstSeq + ordinal,
          version: r.writeBack ? 1 : 0,
          written_version: 0,
          removed: 0,
          updated_at: now,
          approved_by: r.approvedBy ?? null,
          approved_at: r.approvedAt ?? null,
        };
      });
      inserts.push(this.db.insertInto('run_rows').values(chunk).compile());
    }
    return inserts;
  }

  /** A run by id, or undefined. */
  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
  }

  /** A row by id, or undefined. */
  async getRow(rowId: string): Promise<RunRowRecord | undefined> {
    return this.db.selectFrom('run_rows').selectAll().where('id', '=', rowId).executeTakeFirst();
  }

  /**
   * Counts of a run's rows by outcome. A row never sent because the user must fix it (INVALID in the plan, or refused
   * for Reschedule) counts as failed, not skipped: it is among the report's failed rows that Retry sends again.
   */
  async counts(runId: string): Promise<RunCounts> {
    const rows = await this.db
      .selectFrom('run_rows')
      .select((eb) => ['state', 'sheet_status', eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('sent').as('sent')])
      .where('run_id', '=', runId)
      .groupBy(['state', 'sheet_status'])
      .execute();
    const c: RunCounts = { total: 0, pending: 0, sent: 0, created: 0, failed: 0, skipped: 0 };
    for (const r of rows) {
      const n = Number(r.n);
      c.total += n;
      c.sent += Number(r.sent ?? 0);
      if (r.state === 'pending' || r.state === 'sending') c.pending += n;
      else if (r.state === 'created' || r.state === 'updated' || r.state === 'cancelled') c.created += n;
      else if (r.state === 'failed' || UNSENT_FAILURES.has(r.sheet_status ?? '')) c.failed += n;
      else c.skipped += n;
    }
    return c;
  }

  /** Rows whose result changed after `since` (a result sequence number), oldest first. */
  async resultsSince(runId: string, since: number, limit: number): Promise<{ results: RowResult[]; cursor: number }> {
    const rows = await this.db
      .selectFrom('run_rows')
      .select([
        'row_key',
        'row_number',
        'state',
        'sheet_status',
        'post_id',
        'error',
        'scheduled_at',
        'link',
        'version',
        'result_seq',
        'updated_at',
      ])
      .where('run_id', '=', runId)
      .where('result_seq', '>', since)
      .orderBy('result_seq')
      .limit(limit)
      .execute();
    const results: RowResult[] = [];
    let cursor = since;
    for (const r of rows) {
      cursor = Math.max(cursor, Number(r.result_seq));
      // Version 0: nothing to show yet (still pending, or skipped without a visible change).
      if (r.version === 0 || (!r.sheet_status && !r.post_id)) continue;
      const result: RowResult = {
        key: r.row_key,
        rowNumber: r.row_number,
        status: (r.sheet_status ?? statusForState(r.state as RowState)) as SheetStatus,
        updatedAt: new Date(Number(r.updated_at)).toISOString(),
      };
      if (r.post_id) result.postId = r.post_id;
      if (r.error) result.error = r.error;
      if (r.scheduled_at) result.scheduledAtUtc = r.scheduled_at;
      if (r.link) result.link = r.link;
      results.push(result);
    }
    return { results, cursor };
  }

  /** Tenants that have rows due now and not leased by a live owner (see `claimNext` for `staleBefore`). */
  async dueTenants(now: number, staleBefore?: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('run_rows')
      .select('tenant_id')
      .distinct()
      .where((eb) => claimable(eb, now, staleBefore))
      .execute();
    return rows.map((r) => r.tenant_id);
  }

  /**
   * Claims the tenant's next due row with a lease. Rows left `sending` (a call whose outcome is not recorded) come
   * first, so after a restart they are replayed before anything new is sent. With `staleBefore` (dispatchers pass
   * their heartbeat's bound), a row whose lease still runs is taken too when its owner's heartbeat is older than
   * that or its owner is not registered: a crashed instance's rows resume without waiting for the lease to end.
   * One row of `claimBatch`, so the two can never disagree on what is claimable.
   */
  async claimNext(
    tenant: string,
    owner: string,
    now: number,
    leaseMs: number,
    staleBefore?: number,
  ): Promise<RunRowRecord | null> {
    return (await this.claimBatch(tenant, owner, now, leaseMs, 1, staleBefore))[0] ?? null;
  }

  /**
   * Tenants that may have rows to send: those with an active run, and those with a row left `sending` (a call in
   * flight, or one a crash left unrecorded, possibly in a run cancelled since). For each tenant not in `skipCount`,
   * `due` counts its sending rows plus its pending rows due at `now` (leased or not): the dispatcher orders tenants by
   * it. Reads the runs index, the few sending rows and, for the counted tenants only, their range of the due index, so
   * a dispatcher that skips the tenants it counted recently pays for a bounded share of a large backlog per poll.
   */
  async activeTenants(
    now: number,
    skipCount: ReadonlySet<string> = new Set(),
  ): Promise<Array<{ tenantId: string; due?: number }>> {
    const active = await this.db
      .selectFrom('runs')
      .select('tenant_id')
      .distinct()
      .where('state', 'in', [...ACTIVE_RUN_STATES])
      .execute();
    const sending = await this.db
      .selectFrom('run_rows')
      .select((eb) => ['tenant_id', eb.fn.countAll<number | string>().as('n')])
      .where('state', '=', 'sending')
      .groupBy('tenant_id')
      .execute();
    const tenants = [...new Set([...active, ...sending].map((r) => r.tenant_id))];
    const toCount = tenants.filter((t) => !skipCount.has(t));
    const due = new Map<string, number>(toCount.map((t) => [t, 0]));
    for (const r of sending) if (due.has(r.tenant_id)) due.set(r.tenant_id, due.get(r.tenant_id)! + Number(r.n));
    if (toCount.length > 0) {
      // One grouped read of the due index (state = pending, then tenant order: no sort); ranges of the tenants asked.
      const pending = await this.db
        .selectFrom('run_rows')
        .select((eb) => ['tenant_id', eb.fn.countAll<number | string>().as('n')])
        .where('state', '=', 'pending')
        .$if(toCount.length < tenants.length, (qb) => qb.where('tenant_id', 'in', toCount))
        .where('next_attempt_at', '<=', now)
        .groupBy('tenant_id')
        .execute();
      for (const r of pending) if (due.has(r.tenant_id)) due.set(r.tenant_id, due.get(r.tenant_id)! + Number(r.n));
    }
    return tenants.map((tenantId) => (due.has(tenantId) ? { tenantId, due: due.get(tenantId)! } : { tenantId }));
  }

  /**
   * Claims up to `limit` of the tenant's next rows with one lease each, in one transaction: rows left `sending` first
   * (replayed before anything new), then pending rows that are due, in due-time and sheet order. The batch form of
   * `claimNext`, with the same predicate, so a dispatcher pays one round trip per batch instead of one per row.
   */
  async claimBatch(
    tenant: string,
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    staleBefore?: number,
  ): Promise<RunRowRecord[]> {
    if (limit < 1) return [];
    return this.db.transaction().execute(async (trx) => {
      const out: RunRowRecord[] = [];
      for (const state of ['sending', 'pending'] as const) {
        if (out.length >= limit) break;
        const ids = await trx
          .selectFrom('run_rows')
          .select('id')
          .where('tenant_id', '=', tenant)
          .where('state', '=', state)
          .where((eb) => claimable(eb, now, staleBefore))
          .orderBy('next_attempt_at')
          .orderBy('ordinal')
          .limit(limit - out.length)
          .execute();
        if (ids.length === 0) continue;
        const claimed = await trx
          .updateTable('run_rows')
          .set({ lease_owner: owner, lease_until: now + leaseMs })
          .where(
            'id',
            'in',
            ids.map((r) => r.id),
          )
          .where(unindexedState(), '=', state)
          .where((eb) => claimable(eb, now, staleBefore, { byId: true }))
          .returningAll()
          .execute();
        claimed.sort(
          (a, b) => Number(a.next_attempt_at) - Number(b.next_attempt_at) || Number(a.ordinal) - Number(b.ordinal),
        );
        out.push(...claimed.filter((r) => r.lease_owner === owner));
      }
      return out;
    });
  }

  /**
   * Gives back claimed rows this owner has not started (no attempt made): their lease ends, nothing else changes. Only
   * the lease of that claim ends: a row claimed again since (a new lease) stays with whoever holds it now.
   */
  async releaseClaims(rows: Array<Pick<RunRowRecord, 'id' | 'lease_owner' | 'lease_until'>>): Promise<void> {
    const held = rows.filter((row) => row.lease_owner !== null && row.lease_until !== null);
    if (held.length === 0) return;
    // One transaction for the batch: one commit, not one per row.
    await this.db.transaction().execute(async (trx) => {
      for (const row of held) {
        await trx
          .updateTable('run_rows')
          .set({ lease_owner: null, lease_until: null })
          .where('id', '=', row.id)
          .where('lease_owner', '=', row.lease_owner!)
          .where('lease_until', '=', row.lease_until!)
          .execute();
      }
    });
  }

  /**
   * Claims one specific row if it is to be sent now and nobody holds a live lease (a lease whose owner's heartbeat is
   * older than `staleBefore` is not live); one conditional UPDATE, atomic on SQLite and PostgreSQL alike.
   */
  async claimRow(
    rowId: string,
    owner: string,
    now: number,
    leaseMs: number,
    staleBefore: number,
  ): Promise<RunRowRecord | null> {
    const row = await this.db
      .updateTable('run_rows')
      .set({ lease_owner: owner, lease_until: now + leaseMs })
      .where('id', '=', rowId)
      .where((eb) => claimable(eb, now, staleBefore))
      .returningAll()
      .executeTakeFirst();
    return row && row.lease_owner === owner ? row : null;
  }

  /**
   * What a dispatcher's sweep looks at: the rows left `sending` (at most `total`), then each tenant's first pending
   * rows, soonest due and then first in its run first. Bounded per tenant, not globally, so a
   * tenant that arrives behind others' backlogs of thousands of rows is looked at in the same pass. The tenants are
   * those with an active run or a sending row (as for the embedded dispatcher); each tenant's share is
   * `total` / tenants, at least `perTenantAtLeast`. Each pick reads its tenant's range of the claim index, and one
   * statement carries up to 100 tenants.
   */
  async rowsToSweep(o: { total: number; perTenantAtLeast: number }): Promise<RowToEnqueue[]> {
    const sending = await this.db
      .selectFrom('run_rows')
      .select(ENQUEUE_COLUMNS)
      .where('state', '=', 'sending')
      .orderBy('next_attempt_at')
      .limit(o.total)
      .execute();
    const active = await this.db
      .selectFrom('runs')
      .select('tenant_id')
      .distinct()
      .where('state', 'in', [...ACTIVE_RUN_STATES])
      .execute();
    const tenants = [...new Set([...active, ...sending].map((r) => r.tenant_id))].sort();
    const perTenant = Math.max(o.perTenantAtLeast, Math.ceil(o.total / Math.max(1, tenants.length)));
    const out: RowToEnqueue[] = [...sending];
    for (let i = 0; i < tenants.length; i += 100) {
      const picks = tenants
        .slice(i, i + 100)
        .map((tenant, j) =>
          this.db
            .selectFrom(
              this.db
                .selectFrom('run_rows')
                .select(ENQUEUE_COLUMNS)
                .where('tenant_id', '=', tenant)
                .where('state', '=', 'pending')
                .orderBy('next_attempt_at')
                .orderBy('ordinal')
                .limit(perTenant)
                .as(`t${j}`),
            )
            .selectAll(),
        );
      const union = picks.slice(1).reduce((q, p) => q.unionAll(p), picks[0]!);
      out.push(...(await union.execute()));
    }
    return out;
  }

  /** A run's rows still to send, in sheet order: what a dispatcher enqueues when the run is committed. */
  async rowsToSendOfRun(runId: string): Promise<RowToEnqueue[]> {
    return this.db
      .selectFrom('run_rows')
      .select(ENQUEUE_COLUMNS)
      .where('run_id', '=', runId)
      .where('state', 'in', [...TO_SEND_STATES])
      .orderBy('ordinal')
      .execute();
  }

  /** Keeps a claimed row's lease while its work (a long media upload) is still going; only its owner may. */
  async extendLease(rowId: string, owner: string, until: number): Promise<void> {
    await this.db
      .updateTable('run_rows')
      .set({ lease_until: until })
      .where('id', '=', rowId)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /**
   * Gives a claimed row back, due again at `atMs` (pacer said wait, 429, backoff), only while it is still to send and
   * held by this claim: a worker whose lease was taken over while its call was in flight must not put a row that the
   * other worker has since created back to pending (its next claim would find the post and end it "skipped").
   */
  async release(
    row: Pick<RunRowRecord, 'id' | 'lease_owner'>,
    atMs: number,
    patch: { state?: 'pending'; failuresDelta?: number } = {},
  ): Promise<void> {
    await this.writes.run((trx) =>
      trx
        .updateTable('run_rows')
        .set((eb) => ({
          lease_owner: null,
          lease_until: null,
          next_attempt_at: atMs,
          ...(patch.state ? { state: patch.state } : {}),
          failures: eb('failures', '+', patch.failuresDelta ?? 0),
        }))
        .where('id', '=', row.id)
        .where((eb) => heldByClaim(eb, row))
        .execute(),
    );
  }

  /** The post the ledger knows for a row key of a tenant's spreadsheet (from any of its runs). */
  async knownPost(scope: TenantScope, spreadsheetId: string, rowKey: string) {
    const { rows } = await this.shapes.execute(
      this.db,
      'knownPost',
      { tenantId: scope.tenantId, workspaceId: scope.workspaceId, spreadsheetId, rowKey },
      (db, p) =>
        db
          .selectFrom('posts_by_row')
          .selectAll()
          .where('tenant_id', '=', p<string>('tenantId'))
          .where('workspace_id', '=', p<string>('workspaceId'))
          .where('spreadsheet_id', '=', p<string>('spreadsheetId'))
          .where('row_key', '=', p<string>('rowKey'))
          .limit(1),
    );
    return rows[0];
  }

  /** Known posts for many row keys at once (chunked to stay under bind-variable limits). */
  async knownPostsFor(scope: TenantScope, spreadsheetId: string, rowKeys: string[]) {
    const out = [];
    for (let i = 0; i < rowKeys.length; i += INSERT_CHUNK) {
      const chunk = rowKeys.slice(i, i + INSERT_CHUNK);
      if (chunk.length === 0) continue;
      out.push(
        ...(await this.db
          .selectFrom('posts_by_row')
          .selectAll()
          .where('tenant_id', '=', scope.tenantId)
          .where('workspace_id', '=', scope.workspaceId)
          .where('spreadsheet_id', '=', spreadsheetId)
          .where('row_key', 'in', chunk)
          .execute()),
      );
    }
    return out;
  }

  /**
   * The tenant's latest create attempt of this sheet row whose outcome is not known; it must be replayed exactly,
   * and only with this tenant's key (another tenant replaying it would post this tenant's content).
   */
  async unresolvedCreate(scope: TenantScope, spreadsheetId: string, rowKey: string) {
    const { rows } = await this.shapes.execute(
      this.db,
      'unresolvedCreate',
      { tenantId: scope.tenantId, workspaceId: scope.workspaceId, spreadsheetId, rowKey },
      (db, p) =>
        db
          .selectFrom('attempts')
          .selectAll()
          .where('tenant_id', '=', p<string>('tenantId'))
          .where('workspace_id', '=', p<string>('workspaceId'))
          .where('spreadsheet_id', '=', p<string>('spreadsheetId'))
          .where('row_key', '=', p<string>('rowKey'))
          .where('kind', '=', 'create')
          .where('outcome', 'in', [...IN_DOUBT_OUTCOMES])
          .orderBy('started_at', 'desc')
          .limit(1),
    );
    return rows[0];
  }

  /**
   * Records an attempt and marks its row sending, committed before the call is made. Returns the attempt id, or null
   * (nothing recorded, no call to make) when the row is no longer this claim's to send: the run was cancelled and the
   * row skipped, or its lease was taken over. This is the last check before a call, and it costs no extra query.
   */
  async beginAttempt(
    row: RunRowRecord,
    attempt: { kind: RowKind; idempotencyKey: string | null; body: string | null },
  ): Promise<string | null> {
    const id = `${row.id}:${this.clock.now()}:${randomBytes(4).toString('hex')}`;
    const now = this.clock.now();
    const values = {
      id,
      row_id: row.id,
      run_id: row.run_id,
      tenant_id: row.tenant_id,
      workspace_id: row.workspace_id,
      spreadsheet_id: row.spreadsheet_id,
      row_key: row.row_key,
      kind: attempt.kind,
      idempotency_key: attempt.idempotencyKey,
      body: attempt.body,
      started_at: now,
      finished_at: null,
      outcome: 'pending' as const,
      http_status: null,
      error_code: null,
      error_message: null,
    };
    if (this.oneStatementWrites) {
      // The attempt is inserted only if the row was marked: one statement, atomic, no transaction round trips.
      const inserted = await this.db
        .with('marked', (qc) => this.markSendingQuery(qc, row, now).returning('id'))
        .insertInto('attempts')
        .columns(Object.keys(values) as Array<keyof typeof values>)
        .expression((eb) => eb.selectFrom('marked').select(Object.entries(values).map(([k, v]) => eb.val(v).as(k))))
        .returning('id')
        .executeTakeFirst();
      return inserted ? id : null;
    }
    return this.writes.run(async (trx) => {
      const marked = await this.shapes.execute(
        trx,
        `markSending:${row.lease_owner === null ? 'unleased' : 'leased'}`,
        { rowId: row.id, now, leaseOwner: row.lease_owner },
        (db, p) =>
          this.markSendingQuery(
            db,
            { id: p('rowId'), lease_owner: row.lease_owner === null ? null : p('leaseOwner') },
            p('now'),
          ),
      );
      if (Number(marked.numAffectedRows ?? 0n) !== 1) return null;
      const args: Record<string, unknown> = values;
      await this.shapes.execute(trx, 'insertAttempt', args, (db, p) =>
        db
          .insertInto('attempts')
          .values(Object.fromEntries(Object.keys(values).map((k) => [k, p(k)])) as typeof values),
      );
      return id;
    });
  }

  /** Marks a row sending if it is still this claim's to send (still to send, same lease owner). */
  private markSendingQuery(db: Pick<Db, 'updateTable'>, row: Pick<RunRowRecord, 'id' | 'lease_owner'>, now: number) {
    return db
      .updateTable('run_rows')
      .set({ state: 'sending', sent: 1, updated_at: now })
      .where('id', '=', row.id)
      .where((eb) => heldByClaim(eb, row));
  }

  /**
   * Records how an attempt ended, if it is still in flight (a settled outcome is kept). A definite answer resolves the
   * tenant's other unresolved attempts of the sheet row.
   */
  async finishAttempt(
    attemptId: string,
    row: RunRowRecord,
    outcome: AttemptOutcome,
    info: { httpStatus?: number; errorCode?: string; errorMessage?: string; definite: boolean },
  ): Promise<void> {
    await this.writes.run((trx) => this.finishAttemptIn(trx, attemptId, row, outcome, info));
  }

  private async finishAttemptIn(
    trx: Db,
    attemptId: string,
    row: RunRowRecord,
    outcome: AttemptOutcome,
    info: { httpStatus?: number; errorCode?: string; errorMessage?: string; definite: boolean },
  ): Promise<void> {
    const now = this.clock.now();
    const finish = {
      outcome,
      now,
      httpStatus: info.httpStatus ?? null,
      errorCode: info.errorCode ?? null,
      errorMessage: info.errorMessage ?? null,
      attemptId,
    };
    await this.shapes.execute(trx, 'finishAttempt', finish, (db, p) =>
      db
        .updateTable('attempts')
        .set({
          outcome: p('outcome'),
          finished_at: p('now'),
          http_status: p('httpStatus'),
          error_code: p('errorCode'),
          error_message: p('errorMessage'),
        })
        .where('id', '=', p<string>('attemptId'))
        .where(inFlight),
    );
    if (info.definite) {
      const scope = {
        tenantId: row.tenant_id,
        workspaceId: row.workspace_id,
        spreadsheetId: row.spreadsheet_id,
        rowKey: row.row_key,
      };
      await this.shapes.execute(trx, 'resolveInDoubt', { ...scope, now, attemptId }, (db, p) =>
        db
          .updateTable('attempts')
          .set({ outcome: 'resolved', finished_at: p('now') })
          .where((eb) =>
            otherInDoubtAttempts(
              eb,
              {
                tenant_id: p('tenantId'),
                workspace_id: p('workspaceId'),
                spreadsheet_id: p('spreadsheetId'),
                row_key: p('rowKey'),
              },
              p('attemptId'),
            ),
          ),
      );
    }
  }

  /** Sets a row's final (or visible) result: bumps its version and cursor position and drops its lease. */
  /** Writes a row's result; false when the change's conditions (onlyWhileToSend, heldBy) left the row as it was. */
  async setResult(rowId: string, change: ResultChange): Promise<boolean> {
    return this.writes.run((trx) => this.setResultIn(trx, rowId, change));
  }

  /**
   * Records a successful call (or a row found already in the wanted state) in one transaction: the attempt's outcome
   * (a definite answer also resolves the tenant's earlier in-doubt creates of the row), the post memory of the sheet
   * row, and the row's result.
   */
  async recordSuccess(row: RunRowRecord, rec: SuccessRecord): Promise<void> {
    // Webhook events that arrived before this post id was recorded are applied after its result (not for a row that
    // had the post already: events found that row).
    const parked = row.post_id !== rec.post.postId;
    if (this.oneStatementWrites) {
      await this.recordSuccessInOneStatement(row, rec);
      // The success is committed: a failure here must not fail it. The events stay parked for the reconcile.
      if (parked)
        await this.webhookEvents
          .applyParkedAfter(row.workspace_id, rec.post.postId)
          .catch((err: unknown) => this.warn(err, 'parked webhook events not applied yet; the reconcile will'));
      return;
    }
    await this.writes.run(async (trx) => {
      if (rec.attempt)
        await this.finishAttemptIn(trx, rec.attempt.id, row, 'ok', {
          httpStatus: rec.attempt.httpStatus,
          definite: true,
        });
      await this.rememberPostIn(trx, {
        tenantId: row.tenant_id,
        workspaceId: row.workspace_id,
        spreadsheetId: row.spreadsheet_id,
        rowKey: row.row_key,
        ...rec.post,
      });
      await this.setResultIn(trx, row.id, rec.result);
      if (parked) await this.webhookEvents.applyParkedIn(trx, row.workspace_id, rec.post.postId);
    });
  }

  /**
   * recordSuccess on PostgreSQL: one statement whose CTEs finish the attempt, resolve the row's earlier in-doubt
   * creates, remember the post and take the next result number; the main UPDATE sets the row's result. PostgreSQL runs
   * every data-modifying CTE exactly once, and the counter's row lock lasts only as long as the statement.
   */
  private async recordSuccessInOneStatement(row: RunRowRecord, rec: SuccessRecord): Promise<void> {
    const now = this.clock.now();
    const attemptId = rec.attempt?.id ?? null;
    const change = rec.result;
    await this.db
      .with('finished', (qc) =>
        qc
          .updateTable('attempts')
          .set({
            outcome: 'ok',
            finished_at: now,
            http_status: rec.attempt?.httpStatus ?? null,
            error_code: null,
            error_message: null,
          })
          // No attempt (the row was found already as wanted): nothing to finish or resolve.
          .where('id', '=', attemptId ?? '')
          .where(inFlight)
          .returning('id'),
      )
      .with('resolved', (qc) =>
        qc
          .updateTable('attempts')
          .set({ outcome: 'resolved', finished_at: now })
          .where((eb) => otherInDoubtAttempts(eb, row, attemptId ?? ''))
          .where(sql.lit(attemptId !== null))
          .returning('id'),
      )
      .with('remembered', () =>
        this.rememberPostQuery(this.db, {
          tenantId: row.tenant_id,
          workspaceId: row.workspace_id,
          spreadsheetId: row.spreadsheet_id,
          rowKey: row.row_key,
          ...rec.post,
        }).returning('post_id'),
      )
      .with('seq', (qc) =>
        qc
          .updateTable('counters')
          .set((eb) => ({ value: eb('value', '+', 1) }))
          .where('name', '=', 'result_seq')
          .returning('value'),
      )
      .updateTable('run_rows')
      .set((eb) => ({
        ...resultColumns(change, now),
        result_seq: eb.selectFrom('seq').select('value'),
        version: eb('version', '+', 1),
      }))
      .where('id', '=', row.id)
      .execute();
  }

  /** Writes a row's result; false when its conditions (onlyWhileToSend, heldBy, unchangedSince) left it as it was. */
  private async setResultIn(trx: Db, rowId: string, change: ResultChange): Promise<boolean> {
    const seq = await this.allocateSeq(trx);
    const now = this.clock.now();
    // The shape: which result columns are set and which conditions apply (their values are the call's).
    const optional = ['sheetStatus', 'postId', 'error', 'scheduledAt', 'link'] as const;
    const heldBy = change.heldBy;
    const shape = [
      'setResult',
      optional.map((k) => (change[k] === undefined ? '-' : k[0])).join(''),
      change.keepLease ? 'keepLease' : '',
      change.onlyWhileToSend ? 'toSend' : '',
      heldBy ? (heldBy.lease_owner === null ? 'unleased' : 'heldBy') : '',
      change.unchangedSince ? 'unchanged' : '',
    ].join(':');
    const args = {
      ...change,
      rowId,
      now,
      seq,
      heldBy: heldBy?.lease_owner ?? null,
      sinceState: change.unchangedSince?.state,
      sinceVersion: change.unchangedSince?.version,
    };
    const { numAffectedRows } = await this.shapes.execute(trx, shape, args, (db, p) => {
      const columns: ResultChange = { state: p('state'), keepLease: change.keepLease };
      for (const k of optional) if (change[k] !== undefined) columns[k] = p(k);
      return db
        .updateTable('run_rows')
        .set((eb) => ({
          ...resultColumns(columns, p('now')),
          result_seq: p<number>('seq'),
          version: eb('version', '+', 1),
        }))
        .where('id', '=', p<string>('rowId'))
        .$if(change.onlyWhileToSend === true, (q) => q.where('state', 'in', [...TO_SEND_STATES]))
        .$if(heldBy !== undefined, (q) =>
          q.where((eb) => heldByClaim(eb, { lease_owner: heldBy!.lease_owner === null ? null : p('heldBy') })),
        )
        .$if(change.unchangedSince !== undefined, (q) =>
          q.where('state', '=', p<RowState>('sinceState')).where('version', '=', p<number>('sinceVersion')),
        );
    });
    return (numAffectedRows ?? 0n) > 0n;
  }

  /** Remembers the post of a tenant's sheet row, so no later run of that tenant creates it again. */
  async rememberPost(p: RememberedPost): Promise<void> {
    await this.rememberPostIn(this.db, p);
  }

  private async rememberPostIn(trx: Db, post: RememberedPost): Promise<void> {
    const optional = ['bodyHash', 'scheduledAt', 'status'] as const;
    const shape = `rememberPost:${optional.map((k) => (post[k] === undefined ? '-' : k[0])).join('')}`;
    await this.shapes.execute(trx, shape, { ...post, now: this.clock.now() }, (db, p) => {
      const fields: RememberedPost = {
        tenantId: p('tenantId'),
        workspaceId: p('workspaceId'),
        spreadsheetId: p('spreadsheetId'),
        rowKey: p('rowKey'),
        postId: p('postId'),
      };
      for (const k of optional) if (post[k] !== undefined) fields[k] = p(k);
      return this.rememberPostQuery(db, fields, p('now'));
    });
  }

  private rememberPostQuery(db: Pick<Db, 'insertInto'>, p: RememberedPost, now = this.clock.now()) {
    return db
      .insertInto('posts_by_row')
      .values({
        tenant_id: p.tenantId,
        workspace_id: p.workspaceId,
        spreadsheet_id: p.spreadsheetId,
        row_key: p.rowKey,
        post_id: p.postId,
        body_hash: p.bodyHash ?? null,
        scheduled_at: p.scheduledAt ?? null,
        status: p.status ?? null,
        link: null,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'workspace_id', 'spreadsheet_id', 'row_key']).doUpdateSet({
          post_id: p.postId,
          ...(p.bodyHash !== undefined ? { body_hash: p.bodyHash } : {}),
          ...(p.scheduledAt !== undefined ? { scheduled_at: p.scheduledAt } : {}),
          ...(p.status !== undefined ? { status: p.status } : {}),
          updated_at: now,
        }),
      );
  }

  /**
   * Takes an ended run's "Postato runs" tab row for this process: once per run, so two instances (or a restart
   * and a late report) never append it twice. A take older than `reclaimAfterMs` that never finished (the process
   * died between take and append) is taken again. Each take counts a try. Gives the take's time (undefined when not
   * taken), which `finishRunTab` and `returnRunTabDue` need: a take that was reclaimed meanwhile changes nothing.
   */
  async takeRunTabDue(runId: string, reclaimAfterMs = RUN_TAB_RECLAIM_MS): Promise<number | undefined> {
    const now = this.clock.now();
    const { numUpdatedRows } = await this.db
      .updateTable('runs')
      .set((eb) => ({ tab_due: 0, tab_taken_at: now, tab_tries: eb('tab_tries', '+', 1) }))
      .where('id', '=', runId)
      .where('state', 'not in', [...ACTIVE_RUN_STATES])
      .where((eb) =>
        eb.or([
          eb('tab_due', '=', 1),
          // Strictly older, so a reclaim's time always differs from the take it replaces.
          eb.and([eb('tab_taken_at', 'is not', null), eb('tab_taken_at', '<', now - Math.max(0, reclaimAfterMs))]),
        ]),
      )
      .executeTakeFirst();
    return numUpdatedRows > 0n ? now : undefined;
  }

  /**
   * The taken tab row was appended: it is not reclaimed after a crash. Only while this take (`takenAt`) still holds
   * the row: false when another start reclaimed it, which then owns it.
   */
  async finishRunTab(runId: string, takenAt: number): Promise<boolean> {
    const { numUpdatedRows } = await this.db
      .updateTable('runs')
      .set({ tab_taken_at: null })
      .where('id', '=', runId)
      .where('tab_taken_at', '=', takenAt)
      .executeTakeFirst();
    return numUpdatedRows > 0n;
  }

  /**
   * Hands a taken tab row back so a later try appends it. A stop (`countTry: false`) does not use up a try; after
   * `maxTries` failed tries the row is given up (false), so a sheet that always fails is not tried for ever. Only
   * while this take (`takenAt`) still holds the row: false, changing nothing, when another start reclaimed it.
   */
  async returnRunTabDue(
    runId: string,
    takenAt: number,
    o: { countTry?: boolean; maxTries?: number } = {},
  ): Promise<boolean> {
    const back = this.db.updateTable('runs').where('id', '=', runId).where('tab_taken_at', '=', takenAt);
    const { numUpdatedRows } = await (
      o.countTry === false
        ? back.set((eb) => ({ tab_due: 1, tab_taken_at: null, tab_tries: eb('tab_tries', '-', 1) }))
        : back.set({ tab_due: 1, tab_taken_at: null }).where('tab_tries', '<', o.maxTries ?? RUN_TAB_MAX_TRIES)
    ).executeTakeFirst();
    if (numUpdatedRows > 0n) return true;
    await this.finishRunTab(runId, takenAt);
    return false;
  }

  /** Ended runs whose tab row is still to be appended (or whose take a crash left), oldest first. */
  async runsTabDue(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('runs')
      .select('id')
      .where('state', 'not in', [...ACTIVE_RUN_STATES])
      .where((eb) =>
        eb.or([
          eb('tab_due', '=', 1),
          eb.and([eb('tab_taken_at', 'is not', null), eb('tab_taken_at', '<', this.clock.now() - RUN_TAB_RECLAIM_MS)]),
        ]),
      )
      .orderBy('finished_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Stops a run: nothing more is sent; rows not yet sent are skipped; rows in flight finish and are recorded. */
  async cancelRun(runId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const run = await trx.selectFrom('runs').select(['state']).where('id', '=', runId).executeTakeFirst();
      if (!run || !(ACTIVE_RUN_STATES as readonly RunState[]).includes(run.state)) return false;
      const now = this.clock.now();
      const pending = await trx
        .selectFrom('run_rows')
        .select(['id', 'sent'])
        .where('run_id', '=', runId)
        .where('state', '=', 'pending')
        .execute();
      for (const r of pending) {
        // A row already sent once and waiting to retry (a timeout, a 5xx) may exist at Postato: it is not "not sent".
        await this.setResultIn(
          trx,
          r.id,
          Number(r.sent) === 1
            ? {
                state: 'failed',
                sheetStatus: 'FAILED',
                error:
                  'The run was cancelled while this row was being sent; it may have been created. Publish again to check.',
              }
            : {
                state: 'skipped',
                sheetStatus: 'SKIPPED',
                error: 'Not sent: the run was cancelled. Publish again to send this row.',
              },
        );
      }
      await trx
        .updateTable('runs')
        .set({ state: 'cancelled', finished_at: now, api_key_sealed: null, drive_token_sealed: null })
        .where('id', '=', runId)
        .execute();
      await trx.deleteFrom('active_sheets').where('run_id', '=', runId).execute();
      return true;
    });
  }

  /** Ends the run when no row is left to send: state done, API key erased, sheet unlocked. Returns true if it ended now. */
  async finishRunIfComplete(runId: string): Promise<boolean> {
    // Asked after every finished row and almost always answered "not yet": on PostgreSQL that answer needs no
    // transaction (two round trips fewer); the transaction below looks again before ending the run.
    if (this.oneStatementWrites && (await this.rowLeftToSend(this.db, runId))) return false;
    return this.writes.run(async (trx) => {
      if (await this.rowLeftToSend(trx, runId)) return false;
      const res = await trx
        .updateTable('runs')
        .set({ state: 'done', finished_at: this.clock.now(), api_key_sealed: null, drive_token_sealed: null })
        .where('id', '=', runId)
        .where('state', 'in', [...ACTIVE_RUN_STATES])
        .executeTakeFirst();
      await trx.deleteFrom('active_sheets').where('run_id', '=', runId).execute();
      return Number(res.numUpdatedRows) > 0;
    });
  }

  /**
   * Active runs (every tenant's) with no row left to send: runs whose end check was lost (a crash after the last
   * row's job, checks that kept failing). The sweep ends them with finishRunIfComplete. Reads the active runs by
   * runs_by_state and probes each one's rows by run_rows_by_run_state, stopping at the first row found.
   */
  async activeRunsWithNothingToSend(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('runs')
      .select('runs.id')
      .where('runs.state', 'in', [...ACTIVE_RUN_STATES])
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('run_rows')
              .select('run_rows.id')
              .whereRef('run_rows.run_id', '=', 'runs.id')
              .where('run_rows.state', 'in', [...TO_SEND_STATES]),
          ),
        ),
      )
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Whether a run has a row still to send; one row found is enough (counting them all would read the run each time). */
  private async rowLeftToSend(db: Db, runId: string): Promise<boolean> {
    const { rows } = await this.shapes.execute(db, 'rowLeftToSend', { runId }, (d, p) =>
      d
        .selectFrom('run_rows')
        .select('id')
        .where('run_id', '=', p<string>('runId'))
        .where('state', 'in', [...TO_SEND_STATES])
        .limit(1),
    );
    return rows.length > 0;
  }

  /** Rows left to send in a run and the tenant's share of them (for the ETA). */
  async rowsLeft(runId: string): Promise<number> {
    const r = await this.db
      .selectFrom('run_rows')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', '=', runId)
      .where('state', 'in', [...TO_SEND_STATES])
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

/** The sheet status a row shows when none was set explicitly. */
export function statusForState(state: RowState): SheetStatus {
  switch (state) {
    case 'created':
    case 'updated':
      return 'SCHEDULED';
    case 'cancelled':
      return 'CANCELLED';
    case 'failed':
      return 'FAILED';
    case 'skipped':
      return 'SKIPPED';
    default:
      return 'QUEUED';
  }
}

/** A primary-key or unique violation, as PostgreSQL (23505) or SQLite reports it. */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  return e?.code === '23505' || (typeof e?.code === 'string' && e.code.startsWith('SQLITE_CONSTRAINT'));
}

/**
 * The query handle behind a ledger, for tests that inspect the database directly. Product code never calls it:
 * test/ledger/ledger-seal.test.ts fails if anything under src/ outside src/ledger/ does.
 */
export function inspectLedgerDb(ledger: RunLedger): Kysely<LedgerDatabase> {
  return ledger['db'];
}

/** The columns a result change sets on its row (all but result_seq and version, which need the caller's expressions). */
function resultColumns(change: ResultChange, now: number) {
  return {
    state: change.state,
    ...(change.sheetStatus !== undefined ? { sheet_status: change.sheetStatus } : {}),
    ...(change.postId !== undefined ? { post_id: change.postId } : {}),
    ...(change.error !== undefined ? { error: change.error } : {}),
    ...(change.scheduledAt !== undefined ? { scheduled_at: change.scheduledAt } : {}),
    ...(change.link !== undefined ? { link: change.link } : {}),
    ...(change.keepLease ? {} : { lease_owner: null, lease_until: null }),
    updated_at: now,
  };
}
