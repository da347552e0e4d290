/** Structured JSON logging (pino) with credentials redacted wherever they may appear. */
import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths pino blanks before a line is written: headers, bodies and our own fields that may carry secrets. */
export const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'postatoApiKey',
  '*.postatoApiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-postato-api-key"]',
  'req.headers["x-shared-secret"]',
  'req.headers["x-drive-access-token"]',
  'headers["x-drive-access-token"]',
  'driveToken',
  '*.driveToken',
  'req.headers.cookie',
  'headers["x-postato-api-key"]',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
];

/** Matches a Postato API key anywhere in a string. */
export const POSTATO_KEY_PATTERN = /smcp_[0-9a-fA-F]{8,64}/g;

/** Replaces anything that looks like a Postato API key or a bearer token in free text. */
export function scrubSecrets(text: string): string {
  return (
    text
      .replace(POSTATO_KEY_PATTERN, 'smcp_[REDACTED]')
      .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[REDACTED]')
      // Google OAuth access tokens (a Drive token passed on by the add-on) wherever they appear.
      .replace(/\bya29\.[A-Za-z0-9._~+/=-]+/g, 'ya29.[REDACTED]')
  );
}

/** Scrubs every string inside a log object (bounded depth; cycles and non-plain objects are left alone). */
function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error)
    return { type: value.name, message: scrubSecrets(value.message), stack: value.stack && scrubSecrets(value.stack) };
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}

/** Creates the service logger. `destination` lets tests capture every line. */
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      formatters: {
        level: (label) => ({ level: label }),
        // Fields are scrubbed too: an upstream error message that quotes a key must not reach the log.
        log: (object) => scrubDeep(object) as Record<string, unknown>,
      },
      hooks: {
        // Free-text messages are scrubbed too: a key pasted into an error message must not reach the log.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as typeof args;
          return method.apply(this, scrubbed);
        },
      },
    },
    opts.destination,
  );
}

/** A logger that writes nothing (tests that do not inspect logs). */
export const silentLogger: Logger = pino({ level: 'silent' });
