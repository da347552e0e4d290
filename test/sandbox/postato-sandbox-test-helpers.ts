/**
 * Helpers shared by the Postato sandbox tests: fake API keys made at runtime, a small fetch wrapper, post bodies,
 * and a real webhook receiver on 127.0.0.1:0 that records raw bodies and answers with scripted statuses.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A well-formed fake Postato key, new on every call. */
export function newKey(): string {
  return 'smcp_' + randomBytes(32).toString('hex');
}

/** A JSON answer with its headers. */
export interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** Calls the sandbox with fetch. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; idem?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.Authorization = `Bearer ${opts.key}`;
  if (opts.idem) headers['Idempotency-Key'] = opts.idem;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    signal: opts.signal,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** A valid tweet create body, with overrides. */
export function tweet(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    platform: 'twitter',
    accountId: 'acc_tw',
    status: 'publish',
    postType: 'tweet',
    content: 'hello world',
    ...over,
  };
}

/** One request the receiver got. */
export interface Received {
  headers: http.IncomingHttpHeaders;
  rawBody: string;
}

/** A webhook receiver; `statuses` are answered in order, then 200. */
export async function startReceiver(
  statuses: number[] = [],
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const queue = [...statuses];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(queue.shift() ?? 200);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Polls `check` every 20 ms until it returns true (or gives up after `limitMs`). */
export async function until(check: () => boolean, limitMs = 5000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
