/** Deterministic jitter: a row's offset comes from a hash of its spreadsheet and key, never from a random source. */
import { createHash } from 'node:crypto';

/** Whole seconds in [0, maxSeconds], the same for the same spreadsheet and key on every run. */
export function jitterSecondsFor(spreadsheetId: string, key: string, maxSeconds: number): number {
  if (maxSeconds <= 0) return 0;
  const digest = createHash('sha256').update(spreadsheetId).update('\u0000').update(key).digest();
  return digest.readUInt32BE(0) % (Math.floor(maxSeconds) + 1);
}
