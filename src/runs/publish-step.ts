/**
 * One attempt for one claimed row: create, update or cancel a post at Postato, with the attempt recorded in the
 * ledger before the call and its outcome after. Both dispatcher adapters (embedded loop, BullMQ) call processRow.
 */
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { SheetStatus } from '../../appsscript/shared/contract';
import { PostatoError } from '../postato/postato-errors';
import type { Post } from '../postato/postato-client';
import type { CreatePostBody, UpdatePostBody } from '../post-body';
import { canonicalJson, idempotencyKeyForText } from './idempotency-key';
import { sheetStatusOfPost } from '../sheet-status';
import { normalizePostStatus } from '../postato/postato-schemas';
import { bodyTextHash, postBodyHash } from '../plan/post-body-hash';
import type { KeyVault } from './key-vault';
import type { PaceKind, TenantPacer } from '../pacing/tenant-pacer';
import type { RowKind } from '../ledger/ledger-schema';
import {
  ACTIVE_RUN_STATES,
  scopeOfRow,
  type SuccessRecord,
  type RunLedger,
  type RunRecord,
  type RunRowRecord,
} from '../ledger/run-ledger';
import type { RunState } from '../../appsscript/shared/contract';
import type { Metrics } from '../metrics';
import { driveFilesOf, type DriveMediaStep, type MediaOutcome } from './drive-media-step';

/** The Postato calls the step makes (PostatoClient satisfies it; one client per API key). */
export interface PostatoWriter {
  createPost(
    ws: string,
    body: CreatePostBody,
    idempotencyKey: string,
    o?: { retry?: { maxAttempts?: number }; bodyText?: string },
  ): Promise<{ post: Post; replayed: boolean }>;
  getPost(ws: string, postId: string, o?: { retry?: { maxAttempts?: number } }): Promise<Post>;
  updatePost(
    ws: string,
    postId: string,
    patch: UpdatePostBody,
    o?: { retry?: { maxAttempts?: number } },
  ): Promise<Post>;
  cancelPost(
    ws: string,
    postId: string,
    o?: { retry?: { maxAttempts?: number }; alreadyCancelledIsDone?: boolean },
  ): Promise<void>;
}

export interface PublishStepDeps {
  ledger: RunLedger;
  pacer: TenantPacer;
  vault: KeyVault;
  clock: Clock;
  logger: Logger;
  /** Builds a client for an API key (maxAttempts 1: every attempt is the dispatcher's and is recorded). */
  clientFor(apiKey: string): PostatoWriter;
  /** Retryable failures (5xx, timeouts) before a row is FAILED (POSTATO_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** First backoff delay; doubles per failure, full jitter, capped at backoffCapMs. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
  /** Counters for created and failed posts, 429s and retries (labelled by tenant hash); optional. */
  metrics?: Pick<Metrics, 'postsCreated' | 'postsFailed' | 'postatoRateLimited' | 'postatoRetries'>;
  /** Uploads the Drive files a row names before its post is created (absent: such rows fail with a clear reason). */
  driveMedia?: DriveMediaStep;
}

/** What the user reads when a row names Drive files but the run carries no Drive access to read them. */
export const NO_DRIVE_ACCESS =
  'This row names Google Drive files, but the run has no Drive access to read them (it was started without the ' +
  'add-on, or the service restarted without KEY_ENCRYPTION_KEY). Publish it from the sidebar, or use Retry failed rows.';

/**
 * A pacer slot a row's attempt used: its kind and the time it was stamped with (the call's answer), exactly as the pacer
 * recorded it. A dispatcher that keeps these knows when its tenant's next slot frees without asking the pacer.
 */
export interface SlotUsed {
  kind: PaceKind;
  atMs: number;
}

/**
 * What happened to a row: finished (any final state) or deferred to `retryAtMs`; `tenantBlockedUntil` after 429/pacer;
 * `slot` when the attempt took a pacer slot (a call was made).
 */
export type StepResult =
  | { kind: 'finished'; slot?: SlotUsed }
  | { kind: 'deferred'; retryAtMs: number; tenantBlockedUntil?: number; slot?: SlotUsed };

/** sha256 of a canonical body text: what the ledger remembers to tell changed rows apart (shared with the dry run). */
export const bodyHash = bodyTextHash;

/**
 * A draft's body as Publish will send it (status scheduled, or publish for a row without a time): the post memory keeps
 * that hash, so the dry run compares a drafted row with what Publish will do, not with the draft status.
 */
function publishForm(text: string): string {
  const body = JSON.parse(text) as CreatePostBody;
  if (body.status !== 'draft') return text;
  return canonicalJson({ ...body, status: body.scheduledAt ? 'scheduled' : 'publish' });
}

const ONE_TRY = { retry: { maxAttempts: 1 } };

/** How long a run read by the step is reused for its other rows (a Publish that joins the run is seen after this). */
export const RUN_CACHE_MS = 1000;

/** The row stopped being this claim's to send before its call (cancelled and skipped, or its lease taken over). */
const NOT_OURS: StepResult = { kind: 'finished' };

function statusOfPost(post: Post): SheetStatus {
  return sheetStatusOfPost(post.status);
}

/** What a row of a run cancelled while it was being sent (or waiting to be) shows. */
const CANCELLED_WHILE_SENDING =
  'The run was cancelled while this row was being sent; it may have been created. Publish again to check.';

/** What the user reads when a row's post cannot be turned into the bytes sent to Postato: final, never retried. */
export const UNSERIALISABLE =
  'This row could not be turned into a post to send (its content is too large or nested too deeply). Check the Options cell holds a small JSON object such as {"privacy":"public"}, run the dry run, then publish again.';

/** Canonical text of a stored body, or null when it cannot be serialised (e.g. nested deeper than the stack allows). */
function serialisedBody(bodyJson: string): string | null {
  try {
    return canonicalJson(JSON.parse(bodyJson));
  } catch {
    return null;
  }
}

function contentItems(content: string | unknown[] | undefined, media?: unknown): string {
  if (content === undefined) return '';
  const items = typeof content === 'string' ? [{ text: content, ...(media ? { media } : {}) }] : content;
  return canonicalJson(items);
}

/** Creates the step; `processRow(row)` does one attempt for a row the caller has claimed (leased). */
export function createPublishStep(deps: PublishStepDeps) {
  const base = deps.backoffBaseMs ?? 1000;
  const cap = deps.backoffCapMs ?? 60_000;
  const random = deps.random ?? Math.random;
  const log = deps.logger.child({ component: 'publish-step' });

  // Every line about a row carries its run, tenant (a hash of the API key, never the key) and row key.
  const rowLog = (row: RunRowRecord) => log.child({ runId: row.run_id, tenant: row.tenant_id, rowKey: row.row_key });

  // The slot each claimed row's attempt used, handed back with its result (a row object is one claim's).
  const slotsUsed = new WeakMap<RunRowRecord, SlotUsed>();

  const backoff = (failures: number) =>
    Math.round(random() * Math.min(cap, base * 2 ** Math.max(0, failures - 1))) + Math.round(base / 2);

  async function fail(row: RunRowRecord, message: string): Promise<StepResult> {
    // Only while this claim still holds the row: a call of another worker may have created its post meanwhile.
    const failed = await deps.ledger.setResult(row.id, {
      state: 'failed',
      sheetStatus: 'FAILED',
      error: message,
      heldBy: row,
    });
    // Another worker took the row over (and may have created its post): its outcome counts, not this failure.
    if (failed) {
      deps.metrics?.postsFailed.inc({ tenant: row.tenant_id });
      rowLog(row).warn({ reason: message }, 'row failed');
    } else rowLog(row).info({ reason: message }, 'failure not recorded: the row is no longer this claim’s');
    return { kind: 'finished' };
  }

  function apiKeyOf(run: RunRecord): string | null {
    if (!run.api_key_sealed) return null;
    try {
      return deps.vault.decrypt(run.api_key_sealed);
    } catch {
      return null;
    }
  }

  function driveTokenOf(run: RunRecord): string | null {
    if (!run.drive_token_sealed) return null;
    try {
      return deps.vault.decrypt(run.drive_token_sealed);
    } catch {
      return null;
    }
  }

  /**
   * Puts the Drive files of a body into Postato before anything is created or changed there. Returns the body with
   * media ids, or the step's result when the row must wait (a shared file is being uploaded by another worker), try
   * again (Drive or Postato failed for now: an attempt, bounded by maxAttempts) or fail (the user must act).
   */
  async function withDriveMedia<B extends CreatePostBody | UpdatePostBody>(
    row: RunRowRecord,
    run: RunRecord,
    apiKey: string,
    body: B,
  ): Promise<{ body: B } | { result: StepResult }> {
    if (driveFilesOf(body).length === 0) return { body };
    const driveToken = driveTokenOf(run);
    if (!driveToken || !deps.driveMedia) return { result: await fail(row, NO_DRIVE_ACCESS) };
    const outcome: MediaOutcome<B> = await deps.driveMedia.prepare(row, run, body, { driveToken, apiKey });
    if (outcome.kind === 'ready') return { body: outcome.body };
    if (outcome.kind === 'wait') {
      await deps.ledger.release(row, outcome.retryAtMs);
      return { result: { kind: 'deferred', retryAtMs: outcome.retryAtMs } };
    }
    if (!outcome.retryable) return { result: await fail(row, outcome.message) };
    const failures = row.failures + 1;
    if (failures >= deps.maxAttempts)
      return {
        result: await fail(row, `${outcome.message} Gave up after ${failures} tries: use Retry failed rows later.`),
      };
    const at = deps.clock.now() + backoff(failures);
    deps.metrics?.postatoRetries.inc({ tenant: row.tenant_id, reason: 'media_upload' });
    await deps.ledger.release(row, at, { state: 'pending', failuresDelta: 1 });
    return { result: { kind: 'deferred', retryAtMs: at } };
  }

  /** Records a failed call and decides: retry later, pause the tenant, or fail the row. */
  async function onError(row: RunRowRecord, attemptId: string, kind: RowKind, err: unknown): Promise<StepResult> {
    const now = deps.clock.now();
    const paceKind: PaceKind = kind === 'create' ? 'create' : 'write';
    const e = err instanceof PostatoError ? err : undefined;
    if (e?.code === 'rate_limited') {
      deps.metrics?.postatoRateLimited.inc({ tenant: row.tenant_id });
      const until = now + Math.max(e.retryAfterMs ?? 1000, 100);
      await deps.pacer.pause(row.tenant_id, paceKind, until);
      await deps.ledger.finishAttempt(attemptId, row, 'rate_limited', {
        httpStatus: 429,
        errorCode: e.code,
        definite: false,
      });
      await deps.ledger.release(row, until, { state: 'pending' });
      return { kind: 'deferred', retryAtMs: until, tenantBlockedUntil: until };
    }
    const retryable = !e || e.outcomeUnknown || e.retryable || e.code === 'idempotency_key_in_use';
    if (retryable) {
      const unknown = !e || e.outcomeUnknown || e.code === 'idempotency_key_in_use';
      await deps.ledger.finishAttempt(attemptId, row, unknown ? 'unknown' : 'retryable', {
        httpStatus: e?.httpStatus,
        errorCode: e?.code ?? 'unexpected',
        errorMessage: e?.message ?? String((err as Error)?.message ?? err),
        definite: false,
      });
      const failures = row.failures + 1;
      if (failures >= deps.maxAttempts) {
        const why = e
          ? e.userMessage
          : `Sending this row failed unexpectedly (${errorName(err)}): check its cells for unusual content.`;
        const message =
          kind === 'create'
            ? `${why} Gave up after ${failures} tries. If Postato did create it, publishing again finds it and never posts twice.`
            : `${why} Gave up after ${failures} tries. Run it again later.`;
        return fail(row, message);
      }
      const wait = Math.max(backoff(failures), e?.retryAfterMs ?? 0);
      deps.metrics?.postatoRetries.inc({ tenant: row.tenant_id, reason: e?.code ?? 'unexpected' });
      await deps.ledger.release(row, now + wait, { state: 'pending', failuresDelta: 1 });
      return { kind: 'deferred', retryAtMs: now + wait };
    }
    await deps.ledger.finishAttempt(attemptId, row, 'failed', {
      httpStatus: e.httpStatus,
      errorCode: e.code,
      errorMessage: e.message,
      definite: true,
    });
    return fail(row, e.userMessage);
  }

  /**
   * Commits what a successful call (or a read that made the call unnecessary) established, in one transaction: the
   * attempt's outcome when a call was made, the post the sheet row now has (so later runs and dry runs know it), and
   * the row's result.
   */
  async function settle(row: RunRowRecord, o: SuccessRecord): Promise<StepResult> {
    await deps.ledger.recordSuccess(row, o);
    return { kind: 'finished' };
  }

  /** A pacer slot for one call, or the deferral to return when the tenant has none free. */
  async function paced(
    row: RunRowRecord,
    kind: PaceKind,
  ): Promise<{ wait: StepResult; call?: never } | { wait?: never; call: <T>(send: () => Promise<T>) => Promise<T> }> {
    const permit = await deps.pacer.tryAcquire(row.tenant_id, kind);
    if (!permit.ok) {
      await deps.ledger.release(row, permit.retryAtMs);
      return { wait: { kind: 'deferred', retryAtMs: permit.retryAtMs, tenantBlockedUntil: permit.retryAtMs } };
    }
    // Postato counts the call when it arrives, which is no later than its answer: the slot counts from then.
    const call = async <T>(send: () => Promise<T>): Promise<T> => {
      try {
        return await send();
      } finally {
        const atMs = deps.clock.now();
        slotsUsed.set(row, { kind, atMs });
        // A slot left unrestamped keeps its later provisional stamp: slower pacing, never a 429, so carry on.
        await deps.pacer
          .sent(row.tenant_id, kind, permit.slot, atMs)
          .catch((err: unknown) =>
            rowLog(row).warn({ err: { message: (err as Error)?.message } }, 'pacer restamp failed'),
          );
      }
    };
    return { call };
  }

  async function create(row: RunRowRecord, run: RunRecord, client: PostatoWriter, apiKey: string): Promise<StepResult> {
    const known = await deps.ledger.knownPost(scopeOfRow(row), row.spreadsheet_id, row.row_key);
    if (known) {
      // The ledger already holds a post for this sheet row (an earlier run or a lost answer resolved since): never create again.
      await deps.ledger.setResult(row.id, {
        state: 'skipped',
        postId: known.post_id,
        sheetStatus: (known.status as SheetStatus | null) ?? 'SCHEDULED',
        error: '',
        onlyWhileToSend: true,
      });
      return { kind: 'finished' };
    }
    const unresolved = await deps.ledger.unresolvedCreate(scopeOfRow(row), row.spreadsheet_id, row.row_key);
    let bodyText: string;
    let key: string;
    // The sheet's body in canonical form, serialised once for every use below (null: none, or not serialisable).
    const sheetText = row.body_json !== null ? serialisedBody(row.body_json) : null;
    // The row's body as the sheet asks for it now, with Drive files replaced by their media ids (null: not known).
    let currentText: string | null = sheetText;
    if (unresolved?.body && unresolved.idempotency_key) {
      // An earlier call's outcome is unknown: replay it byte for byte before this row may be sent with new content.
      bodyText = unresolved.body;
      key = unresolved.idempotency_key;
      if (currentText !== null && driveFilesOf(JSON.parse(currentText) as CreatePostBody).length > 0) {
        // Only to tell whether the row changed since: files not in the ledger yet count as a change.
        const token = driveTokenOf(run);
        const seen =
          token && deps.driveMedia
            ? await deps.driveMedia.prepare(
                row,
                run,
                JSON.parse(currentText) as CreatePostBody,
                {
                  driveToken: token,
                  apiKey,
                },
                { uploadMissing: false },
              )
            : null;
        currentText = seen?.kind === 'ready' ? canonicalJson(seen.body) : null;
      }
    } else {
      if (!row.body_json) return fail(row, 'Internal error: this row has no post to send. Run the dry run again.');
      const text = sheetText;
      if (text === null) return fail(row, UNSERIALISABLE);
      // Every Drive file of the row is in Postato and confirmed before the post is created.
      const media = await withDriveMedia(row, run, apiKey, JSON.parse(text) as CreatePostBody);
      if ('result' in media) return media.result;
      bodyText = canonicalJson(media.body);
      currentText = bodyText;
      key = idempotencyKeyForText({
        workspaceId: run.workspace_id,
        spreadsheetId: row.spreadsheet_id,
        rowKey: row.row_key,
        bodyText,
      });
    }
    const slot = await paced(row, 'create');
    if (slot.wait) return slot.wait;
    const attemptId = await deps.ledger.beginAttempt(row, { kind: 'create', idempotencyKey: key, body: bodyText });
    if (attemptId === null) return NOT_OURS;
    let post: Post;
    try {
      ({ post } = await slot.call(() =>
        client.createPost(run.workspace_id, JSON.parse(bodyText) as CreatePostBody, key, { ...ONE_TRY, bodyText }),
      ));
    } catch (err) {
      return onError(row, attemptId, 'create', err);
    }
    // Never throws after the post exists: an unserialisable sheet body simply differs from what was replayed.
    const stale = row.body_json !== null && currentText !== bodyText;
    // The post memory keeps the hash of the sheet's body (Drive references, not media ids), as the dry run computes it.
    const rememberedHash = bodyHash(publishForm(!stale && sheetText !== null ? sheetText : bodyText));
    const status = statusOfPost(post);
    const scheduledAt = post.scheduledAt ?? null;
    await settle(row, {
      attempt: { id: attemptId, httpStatus: 201 },
      post: { postId: post.id, bodyHash: rememberedHash, scheduledAt, status },
      result: {
        state: 'created',
        sheetStatus: status,
        postId: post.id,
        scheduledAt,
        error: stale
          ? 'Created with the content of an earlier attempt whose answer was lost. Use Reschedule to apply your edits.'
          : '',
      },
    });
    deps.metrics?.postsCreated.inc({ tenant: row.tenant_id });
    // A child logger per creation costs more than the rest of the line: only when debug lines are written.
    if (log.isLevelEnabled('debug')) rowLog(row).debug({ postId: post.id }, 'post created');
    return { kind: 'finished' };
  }

  async function update(row: RunRowRecord, run: RunRecord, client: PostatoWriter, apiKey: string): Promise<StepResult> {
    if (!row.post_id || !row.body_json)
      return fail(row, 'Internal error: this row has no post to update. Run the dry run again.');
    const postId = row.post_id;
    if (serialisedBody(row.body_json) === null) return fail(row, UNSERIALISABLE);
    const sheetTarget = JSON.parse(row.body_json) as CreatePostBody;
    const media = await withDriveMedia(row, run, apiKey, sheetTarget);
    if ('result' in media) return media.result;
    const target = media.body;
    const patch: UpdatePostBody = {
      content: target.content,
      ...(target.media ? { media: target.media } : {}),
      ...(target.scheduledAt ? { scheduledAt: target.scheduledAt } : {}),
    };
    let current: Post;
    try {
      current = await client.getPost(run.workspace_id, row.post_id, ONE_TRY);
    } catch (err) {
      const attemptId = await deps.ledger.beginAttempt(row, { kind: 'update', idempotencyKey: null, body: null });
      if (attemptId === null) return NOT_OURS;
      return onError(row, attemptId, 'update', err);
    }
    const sameTime =
      (current.scheduledAt ? Date.parse(current.scheduledAt) : NaN) ===
      (target.scheduledAt ? Date.parse(target.scheduledAt) : NaN);
    const sameContent = contentItems(current.content, current.media) === contentItems(target.content, target.media);
    // A draft from Send as draft leaves for delivery: the PATCH carries the status transition (draft → scheduled, or
    // publish for a row without a time). Once Postato holds it as scheduled, a replay finds nothing left to change.
    // Only Publish does that: Reschedule edits a draft's content and time but leaves it a draft.
    const leavesDraft =
      run.mode === 'publish' && normalizePostStatus(current.status) === 'draft' && target.status !== 'draft';
    if (leavesDraft) patch.status = target.status;
    if (sameTime && sameContent && !leavesDraft) {
      // Postato already holds this content and time (or only options differ, which PATCH cannot change): remember the
      // sheet's body so the next dry run stops saying CHANGED, and put the post's status back in the row.
      const status = statusOfPost(current);
      return settle(row, {
        post: {
          postId: row.post_id,
          bodyHash: postBodyHash(sheetTarget),
          scheduledAt: current.scheduledAt ?? null,
          status,
        },
        result: { state: 'skipped', sheetStatus: status, postId: row.post_id, error: '' },
      });
    }
    const slot = await paced(row, 'write');
    if (slot.wait) return slot.wait;
    const patchText = canonicalJson(patch);
    const attemptId = await deps.ledger.beginAttempt(row, { kind: 'update', idempotencyKey: null, body: patchText });
    if (attemptId === null) return NOT_OURS;
    let post: Post;
    try {
      post = await slot.call(() => client.updatePost(run.workspace_id, postId, patch, ONE_TRY));
    } catch (err) {
      return onError(row, attemptId, 'update', err);
    }
    const status = statusOfPost(post);
    const scheduledAt = post.scheduledAt ?? null;
    return settle(row, {
      attempt: { id: attemptId, httpStatus: 200 },
      post: { postId: post.id, bodyHash: postBodyHash(sheetTarget), scheduledAt, status },
      result: { state: 'updated', sheetStatus: status, scheduledAt, error: '' },
    });
  }

  async function cancel(row: RunRowRecord, run: RunRecord, client: PostatoWriter): Promise<StepResult> {
    if (!row.post_id) return fail(row, 'This row has no Post ID, so there is nothing to unschedule.');
    const postId = row.post_id;
    const slot = await paced(row, 'write');
    if (slot.wait) return slot.wait;
    const attemptId = await deps.ledger.beginAttempt(row, { kind: 'cancel', idempotencyKey: null, body: null });
    if (attemptId === null) return NOT_OURS;
    try {
      // An earlier attempt of this row may have cancelled it with its answer lost: a post already cancelled is done.
      await slot.call(() => client.cancelPost(run.workspace_id, postId, { ...ONE_TRY, alreadyCancelledIsDone: true }));
    } catch (err) {
      return onError(row, attemptId, 'cancel', err);
    }
    return settle(row, {
      attempt: { id: attemptId, httpStatus: 200 },
      post: { postId: row.post_id, status: 'CANCELLED' },
      result: { state: 'cancelled', sheetStatus: 'CANCELLED', error: '' },
    });
  }

  function attemptOf(row: RunRowRecord, run: RunRecord, client: PostatoWriter, apiKey: string): Promise<StepResult> {
    if (row.kind === 'create') return create(row, run, client, apiKey);
    if (row.kind === 'update') return update(row, run, client, apiKey);
    if (row.kind === 'cancel') return cancel(row, run, client);
    return fail(row, 'Internal error: unknown row kind.');
  }

  async function runStillActive(runId: string): Promise<boolean> {
    const run = await deps.ledger.getRun(runId);
    return !!run && (ACTIVE_RUN_STATES as readonly RunState[]).includes(run.state);
  }

  // Runs read in the last second: a burst of a run's rows reads it once, not once per row, and decrypts its API key
  // and builds its client once. A cancel is still seen in time: beginAttempt sends nothing for a row the cancel has
  // skipped.
  interface CachedRun {
    run: RunRecord | undefined;
    at: number;
    /** The run's API key and client, once a row needed them (null: the key cannot be read). */
    access?: { apiKey: string; client: PostatoWriter } | null;
  }
  const runCache = new Map<string, CachedRun>();
  async function cachedRun(runId: string): Promise<CachedRun> {
    const now = deps.clock.now();
    const hit = runCache.get(runId);
    if (hit && now - hit.at < RUN_CACHE_MS) return hit;
    const entry: CachedRun = { run: await deps.ledger.getRun(runId), at: now };
    if (runCache.size >= 1000) runCache.clear();
    runCache.set(runId, entry);
    return entry;
  }

  /** One attempt for a claimed row. Never throws for Postato errors: they are recorded and decided here. */
  async function processRow(row: RunRowRecord): Promise<StepResult> {
    const result = await attemptRow(row);
    const slot = slotsUsed.get(row);
    return slot ? { ...result, slot } : result;
  }

  async function attemptRow(row: RunRowRecord): Promise<StepResult> {
    const cached = await cachedRun(row.run_id);
    const run = cached.run;
    if (!run) return fail(row, 'Internal error: the run of this row is missing.');
    if (!(ACTIVE_RUN_STATES as readonly RunState[]).includes(run.state)) {
      // Cancelled while this row's call was in flight: send nothing more; an unknown outcome is resolved by a later run.
      return fail(row, CANCELLED_WHILE_SENDING);
    }
    if (cached.access === undefined) {
      const key = apiKeyOf(run);
      cached.access = key ? { apiKey: key, client: deps.clientFor(key) } : null;
    }
    if (!cached.access) {
      return fail(
        row,
        'The run lost its Postato API key (the service restarted without KEY_ENCRYPTION_KEY). Publish again to send this row.',
      );
    }
    const { apiKey, client } = cached.access;
    try {
      const result = await attemptOf(row, run, client, apiKey);
      if (result.kind === 'deferred' && !(await runStillActive(row.run_id))) {
        // Cancelled while this row waited or was in flight: a row given back now would be pending in an ended run,
        // which no dispatcher looks at; end it here (an unknown outcome is resolved by the next publish). A row the
        // cancel already skipped keeps that result.
        const after = await deps.ledger.getRow(row.id);
        if (after?.state === 'pending' || after?.state === 'sending') return fail(after, CANCELLED_WHILE_SENDING);
        return { kind: 'finished' };
      }
      return result;
    } catch (err) {
      // An error outside a Postato call (a bug, bad data, the ledger): it counts as an attempt like any other, so a
      // row that always throws ends FAILED after POSTATO_MAX_ATTEMPTS instead of holding its run open for ever.
      const failures = row.failures + 1;
      rowLog(row).error(
        { err: { name: errorName(err), message: (err as Error)?.message }, failures },
        'publish step failed unexpectedly',
      );
      if (failures >= deps.maxAttempts) {
        return fail(
          row,
          `The service could not send this row (an unexpected ${errorName(err)}, ${failures} tries): check its cells for unusual content, such as a very large or deeply nested Options cell, then publish again.`,
        );
      }
      const at = deps.clock.now() + backoff(failures);
      await deps.ledger.release(row, at, { state: 'pending', failuresDelta: 1 });
      return { kind: 'deferred', retryAtMs: at };
    }
  }

  return { processRow };
}

/** The class name of a thrown value (RangeError, TypeError, …), safe to show: never its message, which may quote data. */
function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

/** The step's public shape. */
export type PublishStep = ReturnType<typeof createPublishStep>;
