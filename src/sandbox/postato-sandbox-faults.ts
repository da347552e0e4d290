/**
 * Fault injection for the Postato sandbox: a seeded PRNG (so a failing run can be replayed) and the per-request
 * choice between no fault, a 5xx before anything is stored, a drop after storing, and a hang.
 */

/** A pseudo-random source in [0, 1). */
export interface SandboxRandom {
  next(): number;
}

/** mulberry32: tiny, fast and good enough to spread faults; seeded so runs are reproducible. */
export function seededRandom(seed: number): SandboxRandom {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** The fault chosen for one create request. */
export type SandboxFault = 'none' | 'error5xx' | 'dropAfterStore' | 'hang';

/** Draws one number and maps it onto the configured shares, in the order 5xx, drop, hang. */
export function chooseFault(
  random: SandboxRandom,
  shares: { error5xxShare: number; dropAfterStoreShare: number; hangShare: number },
): SandboxFault {
  const total = shares.error5xxShare + shares.dropAfterStoreShare + shares.hangShare;
  if (total <= 0) return 'none';
  const r = random.next();
  if (r < shares.error5xxShare) return 'error5xx';
  if (r < shares.error5xxShare + shares.dropAfterStoreShare) return 'dropAfterStore';
  if (r < total) return 'hang';
  return 'none';
}
