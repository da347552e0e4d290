/**
 * The composition root: builds the ledger, pacer, key vault, publish step, dispatcher, run service, write-back
 * flusher and the Express app from a Config. index.ts listens; tests call buildService directly.
 */
import type { Express } from 'express';
import type { Config } from './config';
import { systemClock, type Clock } from './clock';
import { createLogger, type Logger } from './logger';
import { createApp, type AppDeps } from './app';
import { createRunsRouter } from './http/runs-routes';
import { RunAdmission } from './http/run-admission';
import { createDryRunVerdictWriter, type DryRunVerdictWriter } from './sheets/dry-run-verdict-writer';
import { createRunControlRouter } from './http/run-control-routes';
import { PostatoClient, type PostatoClientOptions } from './postato/postato-client';
import { createPostatoAgent } from './postato/postato-agent';
import { createPostatoReadAdapter } from './runs/postato-read-adapter';
import { createPublishStep, type PostatoWriter } from './runs/publish-step';
import { createDriveMediaStep } from './runs/drive-media-step';
import { createDriveFiles } from './drive/drive-client';
import { createDriveMetadataMemo } from './drive/drive-metadata-memo';
import { putMediaBytes } from './postato/media-put';
import type { Dispatcher } from './runs/dispatcher';
import { createRunService, type RunService } from './runs/run-service';
import { KeyVault, keyVaultFromConfig } from './runs/key-vault';
import { pacerLimitsFromConfig, type TenantPacer } from './pacing/tenant-pacer';
import { openTier } from './runs/tier-factory';
import type { RunLedger } from './ledger/run-ledger';
import { createPostatoWebhookRouter } from './webhooks/postato-webhook-router';
import { WriteBackFlusher } from './sheets/write-back-flusher';
import { createSheetsClient } from './sheets/sheets-client';
import { loadServiceAccountKey } from './sheets/sheets-credentials';
import type { WriteBackStore } from './sheets/write-back-store';
import { closableBudget } from './sheets/write-budget';
import { createMetrics, type Metrics } from './metrics';
import { createPostatoProbe } from './ops/postato-probe';
import { refreshLedgerGauges } from './ops/ledger-metrics';
import { createRunsTabRecorder, type RunsTabRecorder } from './ops/runs-tab-recorder';
import { createOpsRouter } from './http/ops-routes';
import { createRunReportRouter } from './http/run-report-routes';
import { createAccountsRouter } from './http/accounts-routes';
import { createSheetsRouter } from './http/sheets-routes';
import { createStatusRefreshRouter } from './http/status-refresh-routes';
import type { SheetsClient } from './sheets/sheets-client';
import { createSheetProof, type SheetProof } from './runs/sheet-proof';

/** Seams for tests and benchmarks. */
export interface ServiceOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Replaces the Postato client factory (tests that count calls). */
  clientFor?: (apiKey: string) => PostatoWriter;
  pacer?: TenantPacer;
  vault?: KeyVault;
  /** Publish-step backoff base (tests compress time). */
  backoffBaseMs?: number;
  /** Extra createApp options (auth test seams). */
  app?: Omit<AppDeps, 'config' | 'logger' | 'routers'>;
  /** false: do not start the dispatcher (tests that drive it by hand). */
  startDispatcher?: boolean;
  /** The metric set (tests read their own registry). */
  metrics?: Metrics;
}

/** A built service. */
export interface Service {
  app: Express;
  dispatcher: Dispatcher;
  runs: RunService;
  ledger: RunLedger;
  writeBackStore: WriteBackStore;
  flusher?: WriteBackFlusher;
  metrics: Metrics;
  /** Appends ended runs to their spreadsheet's "Postato runs" tab (only when Sheets is configured). */
  runsTab?: RunsTabRecorder;
  /** Writes dry-run verdicts into the sheet (only when Sheets is configured). */
  dryRunVerdicts?: DryRunVerdictWriter;
  /** Stops the dispatcher (in-flight calls finish and are recorded), the flusher and the pacer, then closes the DB. */
  close(): Promise<void>;
}

/** Builds every part of the service from a Config. */
export async function buildService(config: Config, o: ServiceOverrides = {}): Promise<Service> {
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? createLogger({ level: config.LOG_LEVEL });
  const metrics = o.metrics ?? createMetrics({ defaults: config.NODE_ENV !== 'test' });
  // The tier (embedded or scale-out) comes from the configuration, which is refused here if it mixes the two.
  const tier = await openTier(config, { clock, logger }, { pacer: o.pacer });
  const { ledger, pacer } = tier;
  const limits = pacerLimitsFromConfig(config);
  const vault = o.vault ?? keyVaultFromConfig(config, logger);
  if (config.DISPATCH_LEASE_MS <= config.POSTATO_TIMEOUT_MS) {
    logger.warn(
      'DISPATCH_LEASE_MS should exceed POSTATO_TIMEOUT_MS, or a slow call may be replayed by another worker while still in flight.',
    );
  }

  // One keep-alive pool for every Postato call of this process: a socket for each call the dispatcher keeps in
  // flight, plus room for the interactive routes and media uploads beside them.
  const postatoAgent = createPostatoAgent({
    connections: config.DISPATCH_CONCURRENCY + 16,
    connectTimeoutMs: Math.min(10_000, config.POSTATO_TIMEOUT_MS),
  });
  // Every Postato client of this process: one address, one timeout, one pool, and the service's logger and clock (so
  // retries are logged and measured by the injected time).
  const postatoShared = {
    baseUrl: config.POSTATO_API_URL,
    timeoutMs: config.POSTATO_TIMEOUT_MS,
    dispatcher: postatoAgent,
    logger,
    clock,
  } satisfies Partial<PostatoClientOptions>;
  // One try per call: the publish step owns retries (each counts as an attempt).
  const postatoClientFor = (apiKey: string) =>
    new PostatoClient({ ...postatoShared, apiKey, retry: { maxAttempts: 1 } });
  const clientFor: (apiKey: string) => PostatoWriter = o.clientFor ?? postatoClientFor;
  // Interactive reads (accounts, the dry run's checks) keep the client's own retries, on the same pool.
  const interactiveClientFor = (apiKey: string) => new PostatoClient({ ...postatoShared, apiKey });
  // Media from Google Drive: read with the caller's token, uploaded to Postato once per file version.
  const driveMedia = createDriveMediaStep({
    ledger,
    clock,
    logger,
    driveFor: (token) =>
      createDriveFiles(token, { rootUrl: config.DRIVE_API_URL, timeoutMs: config.POSTATO_TIMEOUT_MS }),
    // Ten minutes: a run's rows share one read; a longer run sees a file its owner replaced meanwhile.
    metadataMemo: createDriveMetadataMemo({ clock, ttlMs: 10 * 60_000, maxEntries: 10_000 }),
    mediaClientFor: postatoClientFor,
    putBytes: putMediaBytes,
    maxBytes: config.DRIVE_MEDIA_MAX_BYTES,
    leaseMs: config.DISPATCH_LEASE_MS,
    staleMs: config.DISPATCH_STALE_MS,
    idleTimeoutMs: config.POSTATO_TIMEOUT_MS,
  });
  const step = createPublishStep({
    driveMedia,
    ledger,
    pacer,
    vault,
    clock,
    logger,
    clientFor,
    maxAttempts: config.POSTATO_MAX_ATTEMPTS,
    backoffBaseMs: o.backoffBaseMs,
    metrics,
  });

  const writeBackStore = ledger.writeBack;
  let flusher: WriteBackFlusher | undefined;
  let runsTab: RunsTabRecorder | undefined;
  let sheetsClient: SheetsClient | undefined;
  let dryRunVerdicts: DryRunVerdictWriter | undefined;
  let proof: SheetProof | undefined;
  // Aborted by close(): from then on no Sheets request waits for the per-minute budget (the ledger keeps its work).
  const sheetsClosing = new AbortController();
  const serviceAccount = loadServiceAccountKey(config);
  if (serviceAccount) {
    const budget = closableBudget(tier.writeBudget, sheetsClosing.signal);
    const readBudget = closableBudget(tier.readBudget, sheetsClosing.signal);
    const sheets = createSheetsClient({
      rootUrl: config.SHEETS_API_URL,
      credentials: { serviceAccount },
      budget,
      readBudget,
      metrics,
      // A request retrying after a 429 or 5xx does not hold the stop for its backoff either.
      closed: sheetsClosing.signal,
    });
    sheetsClient = sheets;
    // With Sheets access the service reads and writes spreadsheets, so callers prove they can edit them first.
    proof = createSheetProof({
      store: ledger.sheetProofs,
      sheets,
      clock,
      logger,
      bindingTtlMs: config.SHEET_PROOF_TTL_HOURS * 3_600_000,
      challengeTtlMs: config.SHEET_PROOF_CHALLENGE_SECONDS * 1000,
    });
    dryRunVerdicts = createDryRunVerdictWriter({ sheets, logger });
    flusher = new WriteBackFlusher({
      store: writeBackStore,
      sheetsFor: () => sheets,
      clock,
      logger,
      flushEveryMs: config.WRITEBACK_FLUSH_MS,
      flushRows: config.WRITEBACK_FLUSH_ROWS,
      lock: tier.spreadsheetLock,
    });
    const f = flusher;
    runsTab = createRunsTabRecorder({ ledger, sheetsFor: () => sheets, clock, logger, flush: (id) => f.drain(id) });
  } else {
    logger.info(
      'No Google service account is configured: write-back to Sheets is off; results stay in the ledger and in GET /v1/runs/:id.',
    );
  }

  // A finished row counts towards its spreadsheet's next flush (every WRITEBACK_FLUSH_ROWS results, or the timer).
  const onRowFinished = (_runId: string, spreadsheetId: string) => flusher?.notifyResults(spreadsheetId);
  const onRunFinished = (runId: string) => runsTab?.record(runId);
  const requireSheetProof = proof?.require;
  const dispatcher = tier.dispatcherFor({ step, onRowFinished, onRunFinished });
  const runs = createRunService({
    ledger,
    vault,
    clock,
    logger,
    planDefaults: {
      minGapMinutes: config.PLAN_MIN_GAP_MINUTES,
      jitterSeconds: config.PLAN_JITTER_SECONDS,
      createLimit: config.POSTATO_CREATE_LIMIT,
      windowMs: config.POSTATO_WINDOW_MS,
    },
    createLimit: limits.create.limit,
    windowMs: limits.create.windowMs,
    onRunCommitted: (runId) => dispatcher.kick(runId),
    requireSheetProof,
  });
  const knownPosts = ledger.knownPostsPort();
  const admission = new RunAdmission(config.RUN_ACCEPT_CONCURRENCY, config.RUN_ACCEPT_MAX_BYTES);

  // Runs that end without a last row finishing (nothing to send, or cancelled) reach the runs tab here.
  const startRunAndRecord: typeof runs.startRun = async (args) => {
    const accepted = await runs.startRun(args);
    if (!accepted.joined && (await ledger.getRun(accepted.runId))?.state === 'done') onRunFinished(accepted.runId);
    return accepted;
  };
  const cancelAndRecord: typeof runs.cancel = async (identity, runId) => {
    const status = await runs.cancel(identity, runId);
    onRunFinished(runId);
    return status;
  };

  const app = createApp({
    config,
    logger,
    // Request limits count where the tier keeps its shared state (Redis on the scale-out tier).
    limiters: tier.limiters,
    ...o.app,
    opsRouter: createOpsRouter({
      ledger: tier.checks.ledger,
      redis: tier.checks.redis,
      postatoProbe: createPostatoProbe({
        url: config.POSTATO_API_URL,
        clock,
        timeoutMs: Math.min(2000, config.POSTATO_TIMEOUT_MS),
      }),
      metrics,
      beforeScrape: () => {
        const admitted = admission.stats();
        metrics.runRequestsInProgress.set(admitted.inProgress);
        metrics.runRequestsWaiting.set(admitted.waiting);
        return refreshLedgerGauges(metrics, ledger, clock.now());
      },
    }),
    routers: [
      createRunsRouter({
        config,
        clock,
        logger,
        knownPosts,
        approvals: ledger.approvals,
        startRun: startRunAndRecord,
        onDryRun: dryRunVerdicts?.write,
        requireSheetProof,
        postatoReadFor: (apiKey) => createPostatoReadAdapter(interactiveClientFor(apiKey)),
        admission,
      }),
      createRunReportRouter({ ledger, clock, requireSheetProof }),
      createRunControlRouter({
        runs: { ...runs, cancel: cancelAndRecord },
        writeBack: writeBackStore,
        onSync: () => void flusher?.drain().catch(() => undefined),
      }),
      createPostatoWebhookRouter({
        sink: ledger.webhookSink,
        secrets: ledger.webhookSecrets(config.KEY_ENCRYPTION_KEY ? vault : undefined),
        clock,
        logger,
      }),
      createAccountsRouter({ config, postatoFor: interactiveClientFor }),
      createStatusRefreshRouter({
        store: ledger.statusRefresh,
        // One try per read, as for every call: a 429 stops the refresh (the rest wait for the next one).
        readerFor: postatoClientFor,
        maxPosts: config.STATUS_REFRESH_MAX_POSTS,
        // Every changed row counts towards the spreadsheet's next flush, as a finished run row does.
        onChanged: (spreadsheetId) => flusher?.notifyResults(spreadsheetId, config.WRITEBACK_FLUSH_ROWS),
        requireSheetProof,
      }),
      ...(sheetsClient && proof
        ? [
            createSheetsRouter({
              sheetsFor: () => sheetsClient,
              serviceAccountEmail: sheetsClient.serviceAccountEmail,
              proof,
            }),
          ]
        : []),
    ],
  });

  if (o.startDispatcher !== false) dispatcher.start();
  flusher?.start();
  // Ended runs a previous stop left out of their Postato runs tab (the ledger kept them due).
  await runsTab?.resume();

  /** Says which Sheets work the stop left undone: results stay in the ledger, the flusher writes them at the next start. */
  const reportSheetsLeft = async (runsLeftOut: string[]): Promise<void> => {
    const sheetsLeft = flusher ? await writeBackStore.spreadsheetsWithPendingWrites() : [];
    if (sheetsLeft.length === 0 && runsLeftOut.length === 0) return;
    logger.info(
      { spreadsheets: sheetsLeft.length, runsNotInTab: runsLeftOut.length },
      'stopping without waiting for the Sheets request budget: results stay in the ledger and are written at the next start; so are the ended runs still to be added to their Postato runs tab',
    );
  };

  let closing: Promise<void> | undefined;
  return {
    app,
    dispatcher,
    runs,
    ledger,
    writeBackStore,
    flusher,
    metrics,
    runsTab,
    dryRunVerdicts,
    close: () =>
      (closing ??= (async () => {
        // Sheets writes that would wait for the budget (up to a whole quota window after a many-sheet publish) or
        // for a retry's backoff are given up at once; in-flight Postato calls still finish and are recorded.
        sheetsClosing.abort();
        await dispatcher.stop();
        await dryRunVerdicts?.idle();
        const runsLeftOut = (await runsTab?.close()) ?? [];
        try {
          try {
            await flusher?.stop();
            // Only a log line: a failing ledger read must not keep the tier (ledger, Redis, WAL worker) open.
            await reportSheetsLeft(runsLeftOut).catch((err: unknown) =>
              logger.warn({ err }, 'could not tell which Sheets work is left for the next start'),
            );
          } finally {
            await tier.close();
          }
        } finally {
          // In-flight calls ended with the dispatcher; close() waits for any interactive one, then drops the sockets.
          await postatoAgent.close();
        }
      })()),
  };
}
