/**
 * loadConfig(env) is the only reader of process.env. It validates every setting with zod, reports every bad key
 * in one error, and returns a frozen object that is passed down to whoever needs it.
 */
import { z } from 'zod';

const intFrom = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const csvList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: intFrom(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Public URL of this service, used when registering Postato webhooks. */
  PUBLIC_URL: optionalString,

  // Postato
  POSTATO_API_URL: z.url().default('https://api.postato.com.br'),
  POSTATO_TIMEOUT_MS: intFrom(15000, 100),
  POSTATO_CREATE_LIMIT: intFrom(120, 1),
  POSTATO_UPDATE_LIMIT: intFrom(120, 1),
  POSTATO_WINDOW_MS: intFrom(60000, 100),
  /** Fraction of the limit kept in reserve for clock skew and latency (0.02 = 2 %). */
  POSTATO_SAFETY_MARGIN: z.coerce.number().min(0).max(0.5).default(0.02),
  POSTATO_MAX_ATTEMPTS: intFrom(6, 1),
  /** Posts one "Refresh statuses" reads from Postato at most (GETs count against the tenant's read limit). */
  STATUS_REFRESH_MAX_POSTS: intFrom(100, 1),

  // Storage and dispatch
  DATABASE_URL: z.string().default('sqlite:./data/postato-sheets.db'),
  REDIS_URL: optionalString,
  /** Prefix for Redis keys and BullMQ queues, so several deployments or test runs can share one Redis. */
  REDIS_PREFIX: z.string().default('postato-sheets'),
  DISPATCH_POLL_MS: intFrom(250, 10),
  DISPATCH_LEASE_MS: intFrom(60000, 1000),
  /** A dispatcher whose heartbeat is older than this is dead: its leased rows are taken over before the lease ends. */
  DISPATCH_STALE_MS: intFrom(15000, 1000),
  /**
   * Postato calls in flight per instance. They are I/O (≈150 ms each), so hundreds fit in one process; over a
   * keep-alive pool the sockets stay open between calls.
   */
  DISPATCH_CONCURRENCY: intFrom(256, 1),
  /** Postato calls in flight per tenant per instance, so one tenant's backlog cannot take the whole pool. */
  DISPATCH_TENANT_CONCURRENCY: intFrom(32, 1),

  // Google Sheets
  SHEETS_API_URL: optionalString,
  GOOGLE_APPLICATION_CREDENTIALS: optionalString,
  GOOGLE_SERVICE_ACCOUNT_JSON: optionalString,
  SHEETS_WRITES_PER_MINUTE: intFrom(60, 1),
  /** Read requests of the service account per window (Google: 60 per minute per user, like writes). */
  SHEETS_READS_PER_MINUTE: intFrom(60, 1),
  /** Window of the Sheets read and write budgets; 60 s in production, compressed by tests (the limits are per window). */
  SHEETS_WRITE_WINDOW_MS: intFrom(60000, 100),
  WRITEBACK_FLUSH_MS: intFrom(3000, 50),

  // Google Drive (media from Drive: the service reads the files with the user's token and uploads them to Postato)
  /** Root URL of the Drive API given to googleapis (the Drive fake in the demo and tests). */
  DRIVE_API_URL: optionalString,
  /** The largest Drive file the service moves to Postato (default 1 GiB, Instagram's reel limit). */
  DRIVE_MEDIA_MAX_BYTES: intFrom(1024 * 1024 * 1024, 1),
  /** Timeout of a dry run's or plan's Drive metadata read (uploads run under the row lease: POSTATO_TIMEOUT_MS). */
  DRIVE_TIMEOUT_MS: intFrom(15000, 100),
  WRITEBACK_FLUSH_ROWS: intFrom(200, 1),
  /** How long a caller's proof that they can edit a spreadsheet lasts before the add-on proves it again. */
  SHEET_PROOF_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12),
  /** How long a proof challenge may be written and verified. */
  SHEET_PROOF_CHALLENGE_SECONDS: intFrom(300, 10),

  // Authentication of the add-on
  AUTH_SHARED_SECRET: optionalString,
  GOOGLE_OAUTH_CLIENT_IDS: csvList,
  /** Emails or @domains allowed to use the service; empty = any verified Google account. */
  AUTH_ALLOWED: csvList,
  ADMIN_EMAILS: csvList,

  /** 32 bytes (base64 or hex) used to encrypt Postato API keys at rest while a run needs them. */
  KEY_ENCRYPTION_KEY: optionalString,

  // HTTP server: a client that is slow to send headers or a request, or idles on a keep-alive connection, is cut off.
  HTTP_HEADERS_TIMEOUT_MS: intFrom(15000, 100),
  HTTP_REQUEST_TIMEOUT_MS: intFrom(120000, 100),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: intFrom(5000, 100),

  // Limits
  MAX_ROWS_PER_RUN: intFrom(5000, 1),
  /**
   * Run requests (POST /v1/runs, dry runs included) read, planned and committed at once; later ones wait unread, in
   * arrival order, within the HTTP timeouts. Bounds memory when many large runs arrive together, and leaves the event
   * loop to the dispatcher; large enough that Postato's read latency during planning overlaps.
   */
  RUN_ACCEPT_CONCURRENCY: intFrom(64, 1),
  /**
   * Bytes of run request bodies (Content-Length) read, planned and committed at once; a larger request goes alone.
   * About 6 runs of 5,000 rows (650 KB each) at the default; small runs are held back by the count only.
   */
  RUN_ACCEPT_MAX_BYTES: intFrom(4 * 1024 * 1024, 1024),
  BODY_LIMIT: z
    .string()
    .regex(/^\s*\d+(?:\.\d+)?\s*(?:b|kb|mb|gb)?\s*$/i, 'must be a size such as 10mb, 512kb or 1048576.')
    .default('10mb'),
  REQUESTS_PER_MINUTE: intFrom(120, 1),
  /** Requests per minute from one client address, before authentication (add-on calls come from Google's servers). */
  REQUESTS_PER_MINUTE_PER_ADDRESS: intFrom(1200, 1),
  /** Failed sign-ins per minute from one address before it is locked out for five minutes. */
  AUTH_FAILURES_PER_MINUTE: intFrom(10, 1),
  /** Proxies in front of the service whose X-Forwarded-For is trusted for the client address (0: none). */
  TRUST_PROXY_HOPS: intFrom(0, 0),

  // Planner defaults (the add-on may override per run)
  PLAN_MIN_GAP_MINUTES: intFrom(15, 0),
  PLAN_JITTER_SECONDS: intFrom(90, 0),
});

export type Config = Readonly<z.infer<typeof schema>>;

/** Thrown when the environment holds invalid settings; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration from an environment (process.env by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return Object.freeze(parsed.data);
}
