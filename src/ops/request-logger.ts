/**
 * Request logging middleware: one JSON line per request with a request id, method, path, status and duration.
 * Only the path is logged (no query string, no headers, no body), so secrets in headers or parameters never reach it.
 */
import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger';

/** Header that carries the request id back to the caller (and in from a proxy that set one). */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Logs every request when it finishes; health and metrics scrapes are logged at debug so they do not drown the log. */
export function requestLogger(logger: Logger): RequestHandler {
  const log = logger.child({ component: 'http' });
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const requestId = incoming && /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomBytes(8).toString('hex');
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const path = req.originalUrl.split('?')[0];
      const line = {
        requestId,
        method: req.method,
        path,
        status: res.statusCode,
        durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
      };
      const quiet = path === '/healthz' || path === '/readyz' || path === '/metrics';
      if (quiet) log.debug(line, 'request');
      else if (res.statusCode >= 500) log.error(line, 'request');
      else log.info(line, 'request');
    });
    next();
  };
}
