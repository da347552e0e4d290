/**
 * Strips the Postato API key (the exact key in use, and anything shaped like one) from text and parsed values
 * that come from a response or an exception, before they reach an error message, a `cause` or a log line.
 */
import { scrubSecrets } from '../logger';

/** Returns `text` with `apiKey` (if given) and every `smcp_…`/bearer token replaced by a placeholder. */
export function redactText(text: string, apiKey?: string): string {
  let out = text;
  // The exact key first: a malformed key (wrong length, not hex) would slip past the generic pattern.
  if (apiKey && apiKey.length >= 4) out = out.split(apiKey).join('[REDACTED]');
  return scrubSecrets(out);
}

/** Deep copy of a JSON value with every string redacted; depth-limited so a hostile body cannot recurse forever. */
export function redactValue(value: unknown, apiKey?: string, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value, apiKey);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, apiKey, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[redactText(k, apiKey)] = redactValue(v, apiKey, depth + 1);
  return out;
}
