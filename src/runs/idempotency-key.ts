/**
 * Idempotency by construction: the key sent to Postato is a hash of where the row lives and of the exact canonical
 * body, so an unchanged row always replays its key and any edit gets a new one. Also derives the pacing tenant id.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted recursively (by UTF-16 code units) and no whitespace: the exact bytes sent to Postato. */
export function canonicalJson(value: unknown): string {
  const out = write(value);
  if (out === undefined) throw new TypeError('canonicalJson: the value has no JSON representation.');
  return out;
}

function write(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return write((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
  if (value !== null && typeof value === 'object') {
    // Built by hand: an object literal would reorder integer-like keys ("10" before "9") whatever we sort.
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const v = write((value as Record<string, unknown>)[key]);
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (typeof value === 'bigint') throw new TypeError('canonicalJson: BigInt cannot be sent as JSON.');
  return JSON.stringify(value) as string | undefined;
}

/** "ps1-" + 40 hex of sha256 over (workspace, spreadsheet, row key, canonical body): stable, new when the body changes. */
export function idempotencyKeyFor(args: { workspaceId: string; spreadsheetId: string; rowKey: string; body: unknown }): string {
  // A JSON array keeps the parts unambiguous: ("a:b","c") and ("a","b:c") hash differently.
  const material = JSON.stringify(['ps1', args.workspaceId, args.spreadsheetId, args.rowKey, canonicalJson(args.body)]);
  return `ps1-${createHash('sha256').update(material, 'utf8').digest('hex').slice(0, 40)}`;
}

/** A stable, non-reversible id for the tenant behind an API key (Postato exposes no tenant id; one key ≙ one tenant). */
export function tenantIdFor(apiKey: string): string {
  return `tnt_${createHash('sha256').update(`postato-sheets/tenant/${apiKey}`, 'utf8').digest('hex').slice(0, 32)}`;
}
