/**
 * A tiny HTTP server on 127.0.0.1:0 whose answers a test scripts request by request, for shapes the Postato sandbox
 * never produces (HTTP-date Retry-After, odd bodies, echoed keys). It records every request it receives.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the server saw it. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What to do with one request: answer, or destroy the socket without answering, or never answer. */
export type ScriptedAnswer =
  { status: number; body?: unknown; headers?: Record<string, string> } | { drop: true } | { hang: true };

/** A running scripted server. */
export interface ScriptedServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a server that answers the n-th request with `answer(req, n)` (n from 0). */
export async function startScriptedServer(
  answer: (req: RecordedRequest, n: number) => ScriptedAnswer,
): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const n = requests.length;
      requests.push(rec);
      const a = answer(rec, n);
      if ('drop' in a) {
        req.socket.destroy();
        return;
      }
      if ('hang' in a) return;
      const text = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
