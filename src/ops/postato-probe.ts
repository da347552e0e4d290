/**
 * Is Postato reachable? One GET to its base URL with a short timeout; any HTTP answer (even 401 or 404) counts as
 * reachable. The result is cached so /readyz, however often it is polled, never hammers Postato.
 */
import type { Clock } from '../clock';

/** The outcome of one probe. */
export interface ProbeResult {
  ok: boolean;
  /** HTTP status Postato answered with, when it answered. */
  status?: number;
  /** Why it is unreachable (timeout, connection refused...), without any credential. */
  error?: string;
  checkedAt: number;
}

/** Checks Postato, answering from the cache while it is fresh. */
export interface PostatoProbe {
  check(): Promise<ProbeResult>;
}

export interface PostatoProbeOptions {
  /** POSTATO_API_URL */
  url: string;
  clock: Clock;
  /** Per-probe timeout (default 2 s). */
  timeoutMs?: number;
  /** How long a result is reused (default 15 s). */
  cacheMs?: number;
}

/** Creates a cached probe of Postato's base URL; concurrent checks share one request. */
export function createPostatoProbe(o: PostatoProbeOptions): PostatoProbe {
  const timeoutMs = o.timeoutMs ?? 2000;
  const cacheMs = o.cacheMs ?? 15_000;
  let last: ProbeResult | undefined;
  let inFlight: Promise<ProbeResult> | undefined;

  async function probe(): Promise<ProbeResult> {
    try {
      const res = await fetch(o.url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel().catch(() => undefined);
      return { ok: true, status: res.status, checkedAt: o.clock.now() };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why =
        e.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : (e.cause?.code ?? e.message ?? 'request failed');
      return { ok: false, error: `Postato did not answer: ${why}`, checkedAt: o.clock.now() };
    }
  }

  return {
    check() {
      if (last && o.clock.now() - last.checkedAt < cacheMs) return Promise.resolve(last);
      inFlight ??= probe().then((r) => {
        last = r;
        inFlight = undefined;
        return r;
      });
      return inFlight;
    },
  };
}
