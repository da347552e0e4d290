/**
 * The Postato sandbox: a real HTTP server on 127.0.0.1 that imitates the Postato REST API as postato-api.md §16
 * decides, for the demo and for tests. It shares no code with src/postato/, and product code never imports it.
 */
import { randomFillSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monotonicFactory } from 'ulid';
import { ManualClock, systemClock, type Clock } from '../clock';
import { seededRandom, type SandboxRandom } from './postato-sandbox-faults';
import { parseJson, readRawBody, sendError, sendJson } from './postato-sandbox-http';
import { SandboxIdempotencyStore } from './postato-sandbox-idempotency';
import { runDueLifecycle, type LifecycleDeps } from './postato-sandbox-lifecycle';
import { SandboxRateLimiter } from './postato-sandbox-rate-limit';
import { applyDecision, DECISION_OF, type ApprovalAction } from './postato-sandbox-approvals';
import type { SandboxContext } from './postato-sandbox-call';
import { markMediaPublished, missingMediaOf } from './postato-sandbox-media';
import { handleMediaUpload } from './postato-sandbox-media-upload';
import { handleApiRequest } from './postato-sandbox-routes';
import {
  defaultSandboxSettings,
  mergeSandboxSettings,
  redactSandboxSettings,
  sandboxSettingsPatchSchema,
  type SandboxSettings,
  type SandboxSettingsPatch,
} from './postato-sandbox-settings';
import {
  SandboxStore,
  type SandboxMedia,
  type SandboxMediaEvent,
  type SandboxPost,
  type StoredPost,
  type TenantCounters,
} from './postato-sandbox-store';
import { SandboxWaits } from './sandbox-waits';
import { SandboxWebhookDispatcher, type WebhookEventType, type WebhookStats } from './postato-sandbox-webhooks';

export type { SandboxSettings, SandboxSettingsPatch } from './postato-sandbox-settings';
export { signWebhook } from './postato-sandbox-webhooks';

/** What `GET /__sandbox/inspect` and `inspect()` return. */
export interface SandboxInspection {
  now: number;
  tenants: Array<{
    tenantId: string;
    counters: TenantCounters;
    maxCreatesInAnyWindow: number;
    /** The most /v1 requests of this tenant the sandbox was handling at one time. */
    maxInFlight: number;
  }>;
  /** TCP connections accepted by the API port so far: a client with a keep-alive pool opens few and reuses them. */
  connections: number;
  posts: Array<SandboxPost & { tenantId: string; workspaceId: string; idempotencyKey?: string }>;
  /** Every media item, oldest first, with its owner and the sha256/md5 of the bytes it holds (bytes via mediaBytes). */
  media: Array<SandboxMedia & { tenantId: string; workspaceId: string; sha256: string | null; md5: string | null }>;
  /** Every upload-url, PUT, confirm and delete, in order: count `kind: 'put', status: 200` per sha256 for "uploaded once". */
  mediaEvents: SandboxMediaEvent[];
  webhooks: WebhookStats;
}

/** A reviewer's decision made through the sandbox (as the Postato dashboard would). */
export interface SandboxApprovalDecision {
  /** The post waiting for approval, or its approval id. */
  postId?: string;
  approvalId?: string;
  decision: ApprovalAction;
  /** Default `usr_sandbox_reviewer`. */
  reviewerId?: string;
  comment?: string;
}

/** A running sandbox. */
export interface PostatoSandbox {
  /** Base URL, e.g. http://127.0.0.1:41234 (routes live under /v1). */
  url: string;
  /** Base URL of the second port: the presigned media PUT target (/uploads/{id}) and uploaded files (/files/{id}). */
  uploadUrl: string;
  /** Current settings (read-only view). */
  readonly settings: Readonly<SandboxSettings>;
  /** Changes settings live; `limits` and `faults` may be given in part. */
  update(patch: SandboxSettingsPatch): void;
  /** The clock it runs on (the ManualClock if one was passed). */
  clock: Clock;
  /** Moves the sandbox clock forward (the ManualClock, or an offset over the system clock). */
  advance(ms: number): void;
  /** Runs due lifecycle transitions and webhook deliveries now. */
  tick(): Promise<void>;
  /** Every post with its idempotency key, media and media events, per-tenant counters and webhook stats. */
  inspect(): SandboxInspection;
  /** How many posts were created in a workspace so far: cheap enough to ask often, unlike inspect(). */
  createdIn(workspaceId: string): number;
  /** The bytes a media item holds (after a successful PUT), or null. */
  mediaBytes(mediaId: string): Buffer | null;
  /** Approves, rejects or requests changes on a post waiting for approval; throws when it cannot be decided. */
  decideApproval(decision: SandboxApprovalDecision): Record<string, unknown>;
  /** Forgets posts, keys, counters, accounts and registered webhooks; settings stay. */
  reset(): void;
  close(): Promise<void>;
}

/** Options of `startPostatoSandbox`. */
export interface StartSandboxOptions {
  settings?: SandboxSettingsPatch;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  clock?: Clock;
  /** Real-time ms between automatic ticks; 0 turns them off (then only tick() and clock/advance move posts). */
  tickIntervalMs?: number;
}

/**
 * Random fractions in [0, 1) for ulid from a pool of OS random bytes refilled 4 KiB at a time: ulid's default asks
 * the OS for one byte per character, 16 calls per id, which showed up as a tenth of the sandbox's CPU under load.
 */
function pooledRandom(): () => number {
  const pool = Buffer.alloc(4096);
  let at = pool.length;
  return () => {
    if (at === pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    return pool[at++]! / 256;
  };
}

/** Starts the sandbox and resolves once it listens. */
export async function startPostatoSandbox(opts: StartSandboxOptions = {}): Promise<PostatoSandbox> {
  let settings = mergeSandboxSettings(defaultSandboxSettings(), opts.settings ?? {});
  const base = opts.clock ?? systemClock;
  let offset = 0;
  const clock: Clock = base instanceof ManualClock ? base : { now: () => base.now() + offset };
  const store = new SandboxStore();
  const idempotency = new SandboxIdempotencyStore();
  const limiter = new SandboxRateLimiter();
  const dispatcher = new SandboxWebhookDispatcher();
  const closing = new AbortController();
  const waits = new SandboxWaits();
  let random: SandboxRandom = seededRandom(settings.seed);
  const ulid = monotonicFactory(pooledRandom());
  const newId = (prefix: string) => `${prefix}_${ulid(clock.now())}`;

  const emit = (stored: StoredPost, type: WebhookEventType, extra: Record<string, unknown> = {}): void => {
    const targets = [
      ...settings.webhooks.filter((w) => !w.workspaceId || w.workspaceId === stored.workspaceId),
      ...store.webhooks.filter(
        (w) => w.tenantId === stored.tenantId && w.workspaceId === stored.workspaceId && w.events.includes(type),
      ),
    ];
    // Nobody listens (the load bench, most tests): no event to build.
    if (targets.length === 0) return;
    const p = stored.post;
    const data: Record<string, unknown> = {
      postId: p.id,
      status: p.status,
      platform: p.platform,
      accountId: p.accountId,
    };
    if (p.platformPostId) data.platformPostId = p.platformPostId;
    if (p.platformUrl) data.platformUrl = p.platformUrl;
    if (p.error) data.error = p.error;
    Object.assign(data, extra);
    const now = clock.now();
    const rawBody = JSON.stringify({ id: newId('evt'), type, createdAt: new Date(now).toISOString(), data });
    for (const w of targets) dispatcher.enqueue(w.url, w.secret, rawBody, now);
  };

  const accountOf = (stored: StoredPost) => {
    const { accountId } = stored.post;
    if (settings.accounts === 'auto') return store.autoAccount(stored.tenantId, stored.workspaceId, accountId);
    return settings.accounts.find((a) => a.id === accountId && a.workspaceId === stored.workspaceId);
  };

  const lifecycleDeps = (): LifecycleDeps => ({
    stepMs: settings.deliveryStepMs,
    validateAt: settings.validateAt,
    failShare: settings.deliveryFailShare,
    random,
    accountStatus: (s) => accountOf(s)?.status,
    accountUsername: (s) => accountOf(s)?.username ?? 'sandbox',
    emit,
    missingMedia: (s) => missingMediaOf(store, s.tenantId, s.workspaceId, s.post.content, settings.media.unknownRefs),
    published: (s) => markMediaPublished(store, s.tenantId, s.workspaceId, s.post.content),
  });

  let uploadBase = '';

  const ctx: SandboxContext = {
    settings: () => settings,
    clock,
    store,
    idempotency,
    limiter,
    random: () => random,
    emit,
    newId,
    wait: (ms) => waits.wait(ms),
    uploadBaseUrl: () => uploadBase,
  };

  let tickChain: Promise<void> = Promise.resolve();
  let ticking = false;
  const runTick = async (): Promise<void> => {
    ticking = true;
    try {
      runDueLifecycle(() => store.posts.values(), clock.now(), lifecycleDeps());
      await dispatcher.deliverDue(() => clock.now(), settings.webhookMaxAttempts, settings.webhookRetryBaseMs);
    } finally {
      ticking = false;
    }
  };
  // Ticks run one after another so events go out in the order they happened.
  const tick = (): Promise<void> => {
    const run = tickChain.catch(() => undefined).then(runTick);
    tickChain = run;
    return run;
  };

  const advance = (ms: number): void => {
    if (clock instanceof ManualClock) clock.advance(ms);
    else offset += ms;
  };

  const inspect = (): SandboxInspection => ({
    now: clock.now(),
    tenants: [...store.counters.entries()].map(([tenantId, counters]) => ({
      tenantId,
      counters: { ...counters },
      maxCreatesInAnyWindow: limiter.maxCreatesInAnyWindow(tenantId),
      maxInFlight: store.inFlight.get(tenantId)?.max ?? 0,
    })),
    connections,
    posts: [...store.posts.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((p) => ({
        ...structuredClone(p.post),
        tenantId: p.tenantId,
        workspaceId: p.workspaceId,
        ...(p.idempotencyKey ? { idempotencyKey: p.idempotencyKey } : {}),
      })),
    media: [...store.media.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((m) => ({
        ...structuredClone(m.media),
        tenantId: m.tenantId,
        workspaceId: m.workspaceId,
        sha256: m.sha256,
        md5: m.md5,
      })),
    mediaEvents: structuredClone(store.mediaEvents),
    webhooks: dispatcher.snapshot(),
  });

  const reset = (): void => {
    store.reset();
    idempotency.reset();
    limiter.reset();
    dispatcher.reset();
    random = seededRandom(settings.seed);
  };

  const decide = (
    d: SandboxApprovalDecision,
  ):
    { ok: true; approval: Record<string, unknown> } | { ok: false; status: number; error: string; message: string } => {
    const stored = [...store.posts.values()].find(
      (p) =>
        (d.postId !== undefined && p.post.id === d.postId) ||
        (d.approvalId !== undefined && p.post.approval?.id === d.approvalId),
    );
    if (!stored || !Object.hasOwn(DECISION_OF, d.decision)) {
      return {
        ok: false,
        status: 404,
        error: 'not_found',
        message: 'No post or approval with that id (or no such decision).',
      };
    }
    const now = clock.now();
    return applyDecision(stored, DECISION_OF[d.decision], d.reviewerId ?? 'usr_sandbox_reviewer', d.comment ?? null, {
      now,
      stepMs: settings.deliveryStepMs,
      emit,
    });
  };

  const decideApproval = (d: SandboxApprovalDecision): Record<string, unknown> => {
    const result = decide(d);
    if (!result.ok) throw new Error(`${result.error}: ${result.message}`);
    return result.approval;
  };

  const update = (patch: SandboxSettingsPatch): void => {
    settings = mergeSandboxSettings(settings, patch);
    if (patch.seed !== undefined) random = seededRandom(settings.seed);
  };

  const handleSandboxRoute = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    const raw = await readRawBody(req);
    const body = parseJson(raw);
    if (!body.ok) return sendError(res, 400, 'INVALID_REQUEST', 'The request body is not valid JSON.');
    switch (route) {
      case 'GET /__sandbox/inspect':
        return sendJson(res, 200, inspect());
      case 'POST /__sandbox/approvals/decide': {
        const d = (body.value ?? {}) as SandboxApprovalDecision;
        if ((typeof d.postId !== 'string' && typeof d.approvalId !== 'string') || typeof d.decision !== 'string') {
          return sendError(
            res,
            400,
            'INVALID_REQUEST',
            'Send {"postId" or "approvalId", "decision": "approve" | "reject" | "request-changes", "reviewerId"?, "comment"?}.',
          );
        }
        const result = decide(d);
        if (!result.ok) return sendError(res, result.status, result.error, result.message);
        await tick();
        return sendJson(res, 200, result.approval);
      }
      case 'POST /__sandbox/reset':
        reset();
        return sendJson(res, 200, { success: true });
      case 'POST /__sandbox/settings': {
        const parsed = sandboxSettingsPatchSchema.safeParse(body.value ?? {});
        if (!parsed.success) {
          const details: Record<string, string[]> = {};
          for (const issue of parsed.error.issues)
            (details[issue.path.join('.') || '_body'] ??= []).push(issue.message);
          return sendError(res, 400, 'INVALID_REQUEST', 'The settings patch is invalid; see details.', { details });
        }
        update(parsed.data as SandboxSettingsPatch);
        return sendJson(res, 200, redactSandboxSettings(settings));
      }
      case 'POST /__sandbox/clock/advance': {
        const ms = (body.value as { ms?: unknown } | undefined)?.ms;
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
          return sendError(res, 400, 'INVALID_REQUEST', 'Send {"ms": <non-negative number>}.', {
            details: { ms: ['must be a non-negative number'] },
          });
        }
        advance(ms);
        await tick();
        return sendJson(res, 200, { now: clock.now() });
      }
      default:
        return sendError(res, 404, 'not_found', `No sandbox route ${route}.`);
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const work = url.pathname.startsWith('/__sandbox/')
      ? handleSandboxRoute(req, res, url)
      : url.pathname === '/v1' || url.pathname.startsWith('/v1/')
        ? handleApiRequest(ctx, req, res, url)
        : Promise.resolve(
            sendError(res, 404, 'not_found', `No route ${req.method} ${url.pathname}; the API lives under /v1.`),
          );
    work.catch(() => {
      if (closing.signal.aborted) res.socket?.destroy();
      else sendError(res, 500, 'internal_error', 'The sandbox failed to handle this request.');
    });
  });

  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });

  // The storage host of presigned uploads is a different origin in Postato, so it gets its own port here.
  const uploadServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://uploads');
    const deps = { settings: () => settings, clock, store, draw: () => random.next(), wait: ctx.wait };
    handleMediaUpload(deps, req, res, url).catch(() => {
      if (closing.signal.aborted) res.socket?.destroy();
      else sendError(res, 500, 'internal_error', 'The upload host failed to handle this request.');
    });
  });

  const host = opts.host ?? '127.0.0.1';
  const listen = (s: http.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, host, () => {
        s.off('error', reject);
        resolve((s.address() as AddressInfo).port);
      });
    });
  const port = await listen(server, opts.port ?? 0);
  const uploadPort = await listen(uploadServer, 0).catch(async (err: unknown) => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  });
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  uploadBase = `http://${hostInUrl}:${uploadPort}`;

  const interval = opts.tickIntervalMs ?? 100;
  const timer =
    interval > 0 ? setInterval(() => (ticking ? undefined : void tick().catch(() => undefined)), interval) : null;
  timer?.unref();

  return {
    url: `http://${hostInUrl}:${port}`,
    uploadUrl: uploadBase,
    get settings() {
      return settings;
    },
    update,
    clock,
    advance,
    tick,
    inspect,
    createdIn: (workspaceId) => store.createdIn(workspaceId),
    mediaBytes: (mediaId) => {
      const bytes = store.media.get(mediaId)?.bytes;
      return bytes ? Buffer.from(bytes) : null;
    },
    decideApproval,
    reset,
    async close() {
      if (timer) clearInterval(timer);
      closing.abort();
      waits.close(new Error('The Postato sandbox is closing.'));
      dispatcher.close();
      await tickChain.catch(() => undefined);
      await Promise.all(
        [server, uploadServer].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
