/**
 * Settings of the Postato sandbox: their type, the demo-ready defaults and the zod schema that checks a patch
 * arriving over HTTP (`POST /__sandbox/settings`) or from the `SANDBOX_SETTINGS` environment variable.
 */
import { z } from 'zod';

/** One account the strict account list knows. */
export interface SandboxAccount {
  id: string;
  workspaceId: string;
  platform: string;
  username: string;
  displayName?: string;
  status: 'connected' | 'token_expired' | 'suspended';
}

/** One API key the strict key list knows. */
export interface SandboxKey {
  apiKey: string;
  tenantId: string;
  workspaceIds: string[];
  /** 'agent' (default): a key made under Agents; 'user': a human's key. Approval policies can target either. */
  kind?: 'agent' | 'user';
  /** Default: agents ['posts.publish'], users ['posts.publish', 'posts.approve']; 'approvals.bypass' skips policies. */
  permissions?: string[];
  /** Agent or user id (the `reviewerId` of its decisions); default derived from the key's hash. */
  actorId?: string;
}

/** A workspace approval policy: creations it matches come back `pending_approval`. */
export interface SandboxApprovalPolicy {
  id?: string;
  /** Absent: every workspace. */
  workspaceId?: string;
  /** Whose posts need approval: everyone's (default), only agents' (API keys of kind agent), or only users'. */
  authors?: 'all' | 'agents' | 'users';
  /** Absent: every platform (`x` counts as `twitter`). */
  platforms?: string[];
  /** Sandbox-clock ms after which an undecided approval expires (the post ends `rejected`); absent: never. */
  expiresAfterMs?: number;
}

/** Media upload behaviour. */
export interface SandboxMediaSettings {
  /** Validity of an upload URL (sandbox clock). */
  uploadUrlTtlMs: number;
  /** Largest file accepted at upload-url and PUT. */
  maxSizeBytes: number;
  /** true: a post may use media whose bytes arrived but that was never confirmed (MCP "confirmed on use"). */
  confirmOnUse: boolean;
  /**
   * 'reject' (default): a post naming a media id this sandbox never issued is a 422 `media_not_found`. 'accept': such
   * ids count as media uploaded elsewhere (the demo's sample campaign names one); media it did issue is always checked.
   */
  unknownRefs: 'reject' | 'accept';
}

/** Everything that changes how the sandbox behaves; see the field comments for the defaults. */
export interface SandboxSettings {
  /** 'any' = demo mode: every well-formed key is its own tenant (an agent holding posts.publish and posts.approve). */
  keys: 'any' | SandboxKey[];
  /** 'auto' creates an account the first time its id is used; a list makes unknown accounts a 422. */
  accounts: 'auto' | SandboxAccount[];
  /** false → GET .../accounts answers 404, as the real API may. */
  accountsEndpoint: boolean;
  idempotencyMode: 'lenient' | 'strict';
  idempotencyRetentionMs: number;
  /** Requests per rolling window, per tenant and class (create; PATCH+DELETE; GET). */
  limits: { create: number; write: number; read: number; media: number; windowMs: number };
  validateAt: 'create' | 'delivery';
  /** Share (0–1) of deliveries that end `failed`. */
  deliveryFailShare: number;
  /** Sandbox-clock ms between queued → publishing → published. */
  deliveryStepMs: number;
  faults: {
    latencyMs: number;
    error5xxShare: number;
    dropAfterStoreShare: number;
    hangShare: number;
    hangMs: number;
    forced429: { untilMs: number; retryAfterSeconds: number } | null;
    /** Media PUTs answered 503 with nothing stored: the next N of them, and a share of the rest. */
    mediaPutFailNext: number;
    mediaPutFailShare: number;
    /** Confirms answered 503 with nothing changed: the next N, and a share of the rest. */
    mediaConfirmFailNext: number;
    mediaConfirmFailShare: number;
    /** true: every PUT is refused as if its upload URL had expired (the media then ends `failed`). */
    mediaUploadUrlsExpired: boolean;
    /** Real-time ms added to every media PUT. */
    mediaPutLatencyMs: number;
  };
  /** Posts matching one of these need a reviewer's decision before delivery. */
  approvalPolicies: SandboxApprovalPolicy[];
  media: SandboxMediaSettings;
  webhooks: Array<{ url: string; secret: string; workspaceId?: string }>;
  webhookMaxAttempts: number;
  webhookRetryBaseMs: number;
  /** Seed of the PRNG behind faults and delivery failures, so runs are reproducible. */
  seed: number;
}

/** The defaults: a demo-ready sandbox with the documented limits and no faults. */
export function defaultSandboxSettings(): SandboxSettings {
  return {
    keys: 'any',
    accounts: 'auto',
    accountsEndpoint: true,
    idempotencyMode: 'lenient',
    idempotencyRetentionMs: 24 * 60 * 60 * 1000,
    limits: { create: 120, write: 120, read: 600, media: 120, windowMs: 60_000 },
    validateAt: 'create',
    deliveryFailShare: 0,
    deliveryStepMs: 1000,
    faults: {
      latencyMs: 0,
      error5xxShare: 0,
      dropAfterStoreShare: 0,
      hangShare: 0,
      hangMs: 5000,
      forced429: null,
      mediaPutFailNext: 0,
      mediaPutFailShare: 0,
      mediaConfirmFailNext: 0,
      mediaConfirmFailShare: 0,
      mediaUploadUrlsExpired: false,
      mediaPutLatencyMs: 0,
    },
    approvalPolicies: [],
    media: {
      uploadUrlTtlMs: 15 * 60 * 1000,
      maxSizeBytes: 1024 * 1024 * 1024,
      confirmOnUse: false,
      unknownRefs: 'reject',
    },
    webhooks: [],
    webhookMaxAttempts: 5,
    webhookRetryBaseMs: 1000,
    seed: 1,
  };
}

const share = z.number().min(0).max(1);
const nonNegative = z.number().int().min(0);
const positive = z.number().int().min(1);

const accountSchema = z.object({
  id: z.string().min(1),
  workspaceId: z.string().min(1),
  platform: z.string().min(1),
  username: z.string().min(1),
  displayName: z.string().optional(),
  status: z.enum(['connected', 'token_expired', 'suspended']),
});

/** Schema of a settings patch: every top-level key optional; `limits` and `faults` may be partial. */
export const sandboxSettingsPatchSchema = z
  .object({
    keys: z.union([
      z.literal('any'),
      z.array(
        z.object({
          apiKey: z.string().regex(/^smcp_[0-9a-f]{64}$/, 'must be smcp_ followed by 64 lowercase hex characters'),
          tenantId: z.string().min(1),
          workspaceIds: z.array(z.string().min(1)),
          kind: z.enum(['agent', 'user']).optional(),
          permissions: z.array(z.string().min(1)).optional(),
          actorId: z.string().min(1).optional(),
        }),
      ),
    ]),
    accounts: z.union([z.literal('auto'), z.array(accountSchema)]),
    accountsEndpoint: z.boolean(),
    idempotencyMode: z.enum(['lenient', 'strict']),
    idempotencyRetentionMs: nonNegative,
    limits: z
      .object({ create: positive, write: positive, read: positive, media: positive, windowMs: positive })
      .partial(),
    validateAt: z.enum(['create', 'delivery']),
    deliveryFailShare: share,
    deliveryStepMs: nonNegative,
    faults: z
      .object({
        latencyMs: nonNegative,
        error5xxShare: share,
        dropAfterStoreShare: share,
        hangShare: share,
        hangMs: nonNegative,
        forced429: z.object({ untilMs: z.number(), retryAfterSeconds: positive }).nullable(),
        mediaPutFailNext: nonNegative,
        mediaPutFailShare: share,
        mediaConfirmFailNext: nonNegative,
        mediaConfirmFailShare: share,
        mediaUploadUrlsExpired: z.boolean(),
        mediaPutLatencyMs: nonNegative,
      })
      .partial(),
    approvalPolicies: z.array(
      z
        .object({
          id: z.string().min(1).optional(),
          workspaceId: z.string().min(1).optional(),
          authors: z.enum(['all', 'agents', 'users']).optional(),
          platforms: z
            .array(z.enum(['instagram', 'twitter', 'x', 'linkedin', 'tiktok', 'youtube']))
            .min(1)
            .optional(),
          expiresAfterMs: positive.optional(),
        })
        .strict(),
    ),
    media: z.object({ uploadUrlTtlMs: positive, maxSizeBytes: positive, confirmOnUse: z.boolean() }).partial().strict(),
    webhooks: z.array(z.object({ url: z.url(), secret: z.string().min(1), workspaceId: z.string().min(1).optional() })),
    webhookMaxAttempts: positive,
    webhookRetryBaseMs: nonNegative,
    seed: z.number().int(),
  })
  .partial()
  .strict();

/** A patch as accepted by `update()`: `limits`, `faults` and `media` may be given in part. */
export type SandboxSettingsPatch = Partial<Omit<SandboxSettings, 'limits' | 'faults' | 'media'>> & {
  limits?: Partial<SandboxSettings['limits']>;
  faults?: Partial<SandboxSettings['faults']>;
  media?: Partial<SandboxSettings['media']>;
};

/** Returns new settings with `patch` applied; `limits`, `faults` and `media` are merged field by field. */
export function mergeSandboxSettings(base: SandboxSettings, patch: SandboxSettingsPatch): SandboxSettings {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as SandboxSettingsPatch;
  return {
    ...base,
    ...defined,
    limits: { ...base.limits, ...(defined.limits ?? {}) },
    faults: { ...base.faults, ...(defined.faults ?? {}) },
    media: { ...base.media, ...(defined.media ?? {}) },
  } as SandboxSettings;
}

/** Settings safe to show in a response: API keys and webhook secrets are masked. */
export function redactSandboxSettings(settings: SandboxSettings): unknown {
  return {
    ...settings,
    keys:
      settings.keys === 'any'
        ? 'any'
        : settings.keys.map((k) => ({
            apiKey: `${k.apiKey.slice(0, 12)}…`,
            tenantId: k.tenantId,
            workspaceIds: k.workspaceIds,
            ...(k.kind ? { kind: k.kind } : {}),
            ...(k.permissions ? { permissions: k.permissions } : {}),
            ...(k.actorId ? { actorId: k.actorId } : {}),
          })),
    webhooks: settings.webhooks.map((w) => ({ url: w.url, workspaceId: w.workspaceId, secret: '[redacted]' })),
  };
}
