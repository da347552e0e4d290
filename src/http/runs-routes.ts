/**
 * POST /v1/runs: the dry run answers at once with verdicts and a summary; publish, reschedule and unschedule are
 * planned the same way and handed to the run service, which answers 202.
 */
import { Router } from 'express';
import {
  DRIVE_ACCESS_TOKEN_HEADER,
  POSTATO_API_KEY_HEADER,
  type RunAccepted,
  type RunRequest,
} from '../../appsscript/shared/contract';
import type { Config } from '../config';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { AppError } from '../errors';
import { getIdentity } from './identity';
import type { Identity } from '../runs/identity';
import { parseDriveAccessToken, parsePostatoApiKey, parseRunRequest } from './run-request-schema';
import { withContextRows } from '../plan/context-rows';
import { jsonBody, limitBytes, limitRowsPerRun, refuseDeclaredOversize } from './hardening';
import { admitRunRequest, RunAdmission, whileAdmitted } from './run-admission';
import { planRun, toDryRunResponse, type PlannedRun } from '../runs/dry-run-service';
import type { ApprovalPort, KnownPostsPort, PostatoReadPort } from '../plan/dry-run-ports';
import { postatoReadFor as defaultPostatoReadFor } from '../runs/postato-read-adapter';
import { tenantIdFor } from '../runs/idempotency-key';
import { driveFilesPortFor } from '../runs/drive-files-adapter';
import type { DriveFilesPort } from '../plan/dry-run-ports';

/** What the runs router needs. */
export interface RunsRouterDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Default: a PostatoClient-backed adapter on config.POSTATO_API_URL. */
  postatoReadFor?: (apiKey: string) => PostatoReadPort;
  knownPosts?: KnownPostsPort;
  /** Records and checks approvals of sheets with an Approved column. */
  approvals?: ApprovalPort;
  /** Default: the Drive client on config.DRIVE_API_URL with the caller's token. */
  driveFilesFor?: (accessToken: string) => DriveFilesPort;
  /** publish/reschedule/unschedule; absent → 501 with a clear message. */
  startRun?: (args: {
    identity: Identity;
    request: RunRequest;
    apiKey: string;
    planned: PlannedRun;
    /** The caller's Drive access token, when the add-on sent one (rows naming Drive files need it). */
    driveToken?: string;
  }) => Promise<RunAccepted>;
  /**
   * Throws unless the caller has proved they can edit the request's spreadsheet (src/runs/sheet-proof.ts); absent when
   * the service has no Sheets access (it then never reads or writes a spreadsheet).
   */
  requireSheetProof?: (identity: Identity, spreadsheetId: string) => Promise<void>;
  /** Called after a dry run was answered (the service writes the verdicts into the sheet); never delays the answer. */
  onDryRun?: (request: RunRequest, planned: PlannedRun) => void;
  /** Run requests handled at once (default: RUN_ACCEPT_CONCURRENCY of the config). */
  admission?: RunAdmission;
}

/** Builds the router serving POST /v1/runs. */
export function createRunsRouter(deps: RunsRouterDeps): Router {
  const router = Router();
  const readFor =
    deps.postatoReadFor ?? defaultPostatoReadFor(deps.config.POSTATO_API_URL, deps.config.POSTATO_TIMEOUT_MS);
  const driveFilesFor =
    deps.driveFilesFor ??
    ((token: string) =>
      driveFilesPortFor(token, {
        rootUrl: deps.config.DRIVE_API_URL,
        timeoutMs: deps.config.DRIVE_TIMEOUT_MS,
        maxBytes: deps.config.DRIVE_MEDIA_MAX_BYTES,
      }));
  const defaults = {
    minGapMinutes: deps.config.PLAN_MIN_GAP_MINUTES,
    jitterSeconds: deps.config.PLAN_JITTER_SECONDS,
    createLimit: deps.config.POSTATO_CREATE_LIMIT,
    windowMs: deps.config.POSTATO_WINDOW_MS,
  };

  const bodyLimitBytes = limitBytes(deps.config.BODY_LIMIT) ?? 0;
  const admission =
    deps.admission ?? new RunAdmission(deps.config.RUN_ACCEPT_CONCURRENCY, deps.config.RUN_ACCEPT_MAX_BYTES);

  router.post(
    '/v1/runs',
    // A body declared larger than the parser accepts gets the parser's 413 now, not after waiting its turn (the app
    // refuses it earlier still; this keeps the route right wherever it is mounted).
    refuseDeclaredOversize(bodyLimitBytes),
    // Before the body parser: a request waiting for its turn keeps its body in the socket, not in memory.
    admitRunRequest(admission),
    ...jsonBody(deps.config.BODY_LIMIT),
    limitRowsPerRun(deps.config.MAX_ROWS_PER_RUN),
    // The slot is held until planning and committing end, even if the caller hung up meanwhile.
    whileAdmitted(async (req, res) => {
      const identity = getIdentity(res);
      const apiKey = parsePostatoApiKey(req.get(POSTATO_API_KEY_HEADER));
      const driveToken = parseDriveAccessToken(req.get(DRIVE_ACCESS_TOKEN_HEADER));
      // The acted-on rows plus the others in compact form become the whole sheet the planner and the run service read.
      const request = withContextRows(parseRunRequest(req.body, deps.config.MAX_ROWS_PER_RUN));
      // Before anything is planned, written into the sheet or reported about it.
      await deps.requireSheetProof?.(identity, request.spreadsheetId);
      if (request.mode !== 'dry-run' && !deps.startRun) {
        throw new AppError('not_implemented', `This service cannot ${request.mode} yet: only dry runs are available.`, {
          status: 501,
        });
      }
      const planned = await planRun(request, {
        clock: deps.clock,
        postato: readFor(apiKey),
        knownPosts: deps.knownPosts ?? null,
        // Known posts are the caller's tenant's only: a spreadsheet id and row keys are no proof of anything.
        tenantId: tenantIdFor(apiKey),
        defaults,
        approvals: deps.approvals ?? null,
        // A verified Google address names the approver; a shared-secret install is one organisation.
        caller: identity.email ?? identity.subject,
        // The rows' Drive files are read (metadata only) with the caller's token; without one they cannot be sent.
        drive: driveToken ? driveFilesFor(driveToken) : null,
        driveMaxBytes: deps.config.DRIVE_MEDIA_MAX_BYTES,
      });
      deps.logger.info(
        {
          mode: request.mode,
          subject: identity.subject,
          spreadsheetId: request.spreadsheetId,
          rows: planned.summary.total,
          invalid: planned.summary.invalid,
        },
        'run planned',
      );
      if (request.mode === 'dry-run') {
        res.json(toDryRunResponse(planned));
        deps.onDryRun?.(request, planned);
        return;
      }
      const accepted = await deps.startRun!({
        identity,
        request,
        apiKey,
        planned,
        ...(driveToken ? { driveToken } : {}),
      });
      res.status(202).json(accepted);
    }),
  );
  return router;
}
