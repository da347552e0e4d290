/**
 * Postato webhook signatures (Stripe-style): `X-Webhook-Signature: t=<unix seconds>,v1=<hex>` where v1 is
 * HMAC-SHA256(secret, `${t}.${rawBody}`). Verification is constant time and refuses timestamps outside a tolerance,
 * which is what makes a captured delivery useless for a replay later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Postato's documented tolerance between the signature time and now. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Why a signature was refused; safe to show the sender. */
export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';

export interface ParsedSignature {
  timestamp: number;
  v1: string[];
}

/** Parses `t=…,v1=…[,v1=…]`; returns undefined when the header is not in that form. */
export function parseSignatureHeader(header: string): ParsedSignature | undefined {
  let timestamp: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (name === 'v1' && /^[0-9a-fA-F]{64}$/.test(value)) v1.push(value.toLowerCase());
  }
  if (timestamp === undefined || v1.length === 0) return undefined;
  return { timestamp, v1 };
}

/** The hex v1 signature of `rawBody` at `timestamp` (what Postato sends; tests and the sandbox use it too). */
export function signWebhookPayload(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** Builds a complete header value for `rawBody` signed now (unix seconds). */
export function webhookSignatureHeader(secret: string, rawBody: Buffer | string, nowSeconds: number): string {
  return `t=${nowSeconds},v1=${signWebhookPayload(secret, nowSeconds, rawBody)}`;
}

/** A candidate secret and the workspace it was registered for. */
export interface WorkspaceSecret {
  workspaceId: string;
  secret: string;
}

/**
 * Verifies a signature header against every candidate secret and says which workspaces' secrets signed it, so the
 * event is applied to those workspaces only. Each comparison is constant time over equal-length buffers, and every
 * pair is compared (no early exit) so timing does not reveal which secret matched.
 */
export function matchWebhookSignature(args: {
  header: string | undefined;
  rawBody: Buffer;
  secrets: readonly WorkspaceSecret[];
  nowMs: number;
  toleranceSeconds?: number;
}): { ok: true; workspaceIds: string[] } | { ok: false; reason: SignatureFailure } {
  if (!args.header) return { ok: false, reason: 'missing' };
  const parsed = parseSignatureHeader(args.header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const tolerance = args.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(args.nowMs / 1000 - parsed.timestamp) > tolerance) return { ok: false, reason: 'stale' };
  const given = parsed.v1.map((hex) => Buffer.from(hex, 'hex'));
  const matched = new Set<string>();
  for (const { workspaceId, secret } of args.secrets) {
    const expected = Buffer.from(signWebhookPayload(secret, parsed.timestamp, args.rawBody), 'hex');
    for (const candidate of given) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched.add(workspaceId);
    }
  }
  return matched.size > 0 ? { ok: true, workspaceIds: [...matched] } : { ok: false, reason: 'mismatch' };
}

/** Verifies a signature header against plain secrets. Returns 'ok' or the reason for refusal. */
export function verifyWebhookSignature(args: {
  header: string | undefined;
  rawBody: Buffer;
  secrets: readonly string[];
  nowMs: number;
  toleranceSeconds?: number;
}): 'ok' | SignatureFailure {
  const verdict = matchWebhookSignature({
    ...args,
    secrets: args.secrets.map((secret) => ({ workspaceId: '', secret })),
  });
  return verdict.ok ? 'ok' : verdict.reason;
}
