/**
 * Idempotency store of the Postato sandbox: records keyed by (tenant, key) that are either in flight or hold the
 * stored 201 response, compared by canonical body and forgotten after the retention period (sandbox clock).
 */

/** JSON with object keys sorted recursively, so equal bodies compare equal byte for byte. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort())
      out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** What the store says about a key for an incoming request. */
export type IdempotencyLookup =
  { kind: 'new' } | { kind: 'in_flight' } | { kind: 'replay'; status: number; bodyText: string; sameBody: boolean };

interface IdempotencyRecord {
  canonicalBody: string;
  state: 'in_flight' | 'done';
  startedAt: number;
  storedAt?: number;
  status?: number;
  /** The stored answer as JSON text: a replay sends the same bytes, and text cannot change after it is stored. */
  bodyText?: string;
  postId?: string;
}

/** Tenant-scoped idempotency records with a retention window. */
export class SandboxIdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord>();

  private static id(tenantId: string, key: string): string {
    return `${tenantId}\u0000${key}`;
  }

  /** Looks a key up; a stored record older than `retentionMs` is forgotten first. */
  lookup(tenantId: string, key: string, canonicalBody: string, now: number, retentionMs: number): IdempotencyLookup {
    const id = SandboxIdempotencyStore.id(tenantId, key);
    const record = this.records.get(id);
    if (!record) return { kind: 'new' };
    if (record.state === 'in_flight') return { kind: 'in_flight' };
    if (now - (record.storedAt ?? 0) >= retentionMs) {
      this.records.delete(id);
      return { kind: 'new' };
    }
    return {
      kind: 'replay',
      status: record.status ?? 201,
      bodyText: record.bodyText ?? '{}',
      sameBody: record.canonicalBody === canonicalBody,
    };
  }

  /** Marks a key in flight; a second request with it gets 409 until `complete` or `abort`. */
  begin(tenantId: string, key: string, canonicalBody: string, now: number): void {
    this.records.set(SandboxIdempotencyStore.id(tenantId, key), { canonicalBody, state: 'in_flight', startedAt: now });
  }

  /** Stores the 201 response against the key. */
  complete(tenantId: string, key: string, status: number, bodyText: string, postId: string, now: number): void {
    const record = this.records.get(SandboxIdempotencyStore.id(tenantId, key));
    if (!record) return;
    Object.assign(record, { state: 'done', status, bodyText, postId, storedAt: now });
  }

  /** Forgets an in-flight key whose request ended without a stored result (validation failure, shutdown). */
  abort(tenantId: string, key: string): void {
    const id = SandboxIdempotencyStore.id(tenantId, key);
    if (this.records.get(id)?.state === 'in_flight') this.records.delete(id);
  }

  /** Forgets every record. */
  reset(): void {
    this.records.clear();
  }
}
