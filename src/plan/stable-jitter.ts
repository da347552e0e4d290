/** Deterministic jitter: a row's offset comes from a hash of its spreadsheet and key, never from a random source. */
import { hash } from 'node:crypto';

/** Whole seconds in [0, maxSeconds], the same for the same spreadsheet and key on every run. */
export function jitterSecondsFor(spreadsheetId: string, key: string, maxSeconds: number): number {
  if (maxSeconds <= 0) return 0;
  // One-shot hash of `id NUL key` (the same bytes as hashing them in turn; far cheaper than a Hash object per row).
  const first32 = Number.parseInt(hash('sha256', `${spreadsheetId}\u0000${key}`, 'hex').slice(0, 8), 16);
  return first32 % (Math.floor(maxSeconds) + 1);
}
