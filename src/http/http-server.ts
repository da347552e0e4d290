/**
 * The HTTP server around the app, with timeouts so a slow or silent client cannot hold a connection: headers must
 * arrive within HTTP_HEADERS_TIMEOUT_MS, the whole request within HTTP_REQUEST_TIMEOUT_MS, and an idle keep-alive
 * connection closes after HTTP_KEEP_ALIVE_TIMEOUT_MS. Every place that serves the app (index.ts, the demo) uses it.
 */
import http, { type Server } from 'node:http';
import type { Express } from 'express';
import type { Config } from '../config';

/** The settings the server reads. */
export type ServerTimeouts = Pick<
  Config,
  'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'
>;

/** Creates (does not start) the server; `listen` it like any node:http server. */
export function createHttpServer(app: Express, config: ServerTimeouts): Server {
  // Node checks these deadlines on an interval (30 s by default); a tenth of the shortest keeps them meaningful.
  const checkEveryMs = Math.max(
    50,
    Math.min(30_000, Math.floor(Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS) / 10)),
  );
  const server = http.createServer(
    {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      // Node refuses a request timeout shorter than the headers timeout.
      requestTimeout: Math.max(config.HTTP_REQUEST_TIMEOUT_MS, config.HTTP_HEADERS_TIMEOUT_MS),
      keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: checkEveryMs,
    },
    app,
  );
  return server;
}
