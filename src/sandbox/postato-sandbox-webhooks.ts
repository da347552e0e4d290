/**
 * Webhook deliveries of the Postato sandbox: signed as postato-api.md §7 describes (Stripe-style HMAC over
 * "t.rawBody"), queued on the sandbox clock and retried with exponential backoff when the receiver fails.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

/** Events the sandbox emits. */
export const WEBHOOK_EVENTS = [
  'post.scheduled',
  'post.queued',
  'post.published',
  'post.failed',
  'approval.requested',
  'approval.decided',
] as const;

/** One of the emitted event types. */
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** The `X-Webhook-Signature` value for a body at a unix-seconds timestamp. */
export function signWebhook(secret: string, timestampSeconds: number, rawBody: string): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`).digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

interface Delivery {
  url: string;
  secret: string;
  rawBody: string;
  attempts: number;
  nextAt: number;
}

/** Counts of what the dispatcher did, for the inspection endpoint. */
export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  gaveUp: number;
  pending: number;
}

/** Holds pending deliveries and sends the due ones when asked. */
export class SandboxWebhookDispatcher {
  private queue: Delivery[] = [];
  private stats = { delivered: 0, failedAttempts: 0, gaveUp: 0 };
  private readonly abort = new AbortController();

  constructor(private readonly timeoutMs = 2000) {}

  /** Queues one delivery of `rawBody` to `url`, due at `now`. */
  enqueue(url: string, secret: string, rawBody: string, now: number): void {
    this.queue.push({ url, secret, rawBody, attempts: 0, nextAt: now });
  }

  /** Sends every due delivery in order; a failure is rescheduled at base·2^(attempt−1) until maxAttempts. */
  async deliverDue(now: () => number, maxAttempts: number, retryBaseMs: number): Promise<void> {
    const due = this.queue.filter((d) => d.nextAt <= now());
    for (const d of due) {
      if (this.abort.signal.aborted) return;
      const ok = await this.send(d, Math.floor(now() / 1000));
      d.attempts += 1;
      if (ok) {
        this.stats.delivered += 1;
        this.remove(d);
      } else {
        this.stats.failedAttempts += 1;
        if (d.attempts >= maxAttempts) {
          this.stats.gaveUp += 1;
          this.remove(d);
        } else {
          d.nextAt = now() + retryBaseMs * 2 ** (d.attempts - 1);
        }
      }
    }
  }

  /** What was delivered, failed and is still pending. */
  snapshot(): WebhookStats {
    return { ...this.stats, pending: this.queue.length };
  }

  /** Drops pending deliveries and counts. */
  reset(): void {
    this.queue = [];
    this.stats = { delivered: 0, failedAttempts: 0, gaveUp: 0 };
  }

  /** Aborts in-flight deliveries so nothing keeps the process alive. */
  close(): void {
    this.abort.abort();
    this.queue = [];
  }

  private remove(d: Delivery): void {
    this.queue = this.queue.filter((x) => x !== d);
  }

  private send(d: Delivery, t: number): Promise<boolean> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(d.url);
      } catch {
        return resolve(false);
      }
      const lib = url.protocol === 'https:' ? https : http;
      // No keep-alive agent: an idle pooled socket would keep a test process alive after close().
      const req = lib.request(
        url,
        {
          method: 'POST',
          agent: false,
          signal: this.abort.signal,
          timeout: this.timeoutMs,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(d.rawBody),
            'X-Webhook-Signature': signWebhook(d.secret, t, d.rawBody),
            Connection: 'close',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
          res.on('error', () => resolve(false));
        },
      );
      req.on('timeout', () => req.destroy(new Error('webhook delivery timed out')));
      req.on('error', () => resolve(false));
      req.end(d.rawBody);
    });
  }
}
