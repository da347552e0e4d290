/**
 * The one hash of a Postato create body that the ledger remembers per post: publish and reschedule store it, and the
 * dry run compares a row's current body with it to mark the row CHANGED. Both sides must hash through here.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';

/** sha256 (hex) of a body that is already canonical JSON text (e.g. the exact bytes an attempt sent). */
export function bodyTextHash(bodyText: string): string {
  return createHash('sha256').update(bodyText, 'utf8').digest('hex');
}

/** sha256 (hex) of a body's canonical JSON: what the ledger remembers for a created or updated post. */
export function postBodyHash(body: unknown): string {
  return bodyTextHash(canonicalJson(body));
}
