/**
 * Idempotency by construction: the key sent to Postato is a hash of where the row lives and of the exact canonical
 * body, so an unchanged row always replays its key and any edit gets a new one. Also derives the pacing tenant id.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';

export { canonicalJson };

/** "ps1-" + 40 hex of sha256 over (workspace, spreadsheet, row key, canonical body): stable, new when the body changes. */
export function idempotencyKeyFor(args: {
  workspaceId: string;
  spreadsheetId: string;
  rowKey: string;
  body: unknown;
}): string {
  return idempotencyKeyForText({ ...args, bodyText: canonicalJson(args.body) });
}

/** The same key from a body already in canonical form (what the publish step holds), without serialising it again. */
export function idempotencyKeyForText(args: {
  workspaceId: string;
  spreadsheetId: string;
  rowKey: string;
  bodyText: string;
}): string {
  // A JSON array keeps the parts unambiguous: ("a:b","c") and ("a","b:c") hash differently.
  const material = JSON.stringify(['ps1', args.workspaceId, args.spreadsheetId, args.rowKey, args.bodyText]);
  return `ps1-${createHash('sha256').update(material, 'utf8').digest('hex').slice(0, 40)}`;
}

/** A stable, non-reversible id for the tenant behind an API key (Postato exposes no tenant id; one key ≙ one tenant). */
export function tenantIdFor(apiKey: string): string {
  return `tnt_${createHash('sha256').update(`postato-sheets/tenant/${apiKey}`, 'utf8').digest('hex').slice(0, 32)}`;
}
