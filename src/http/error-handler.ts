/** The one error middleware: maps typed errors to status and body, and hides internals on 500. */
import type { ErrorRequestHandler } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { ErrorBody } from '../../appsscript/shared/contract';

export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof AppError) {
      const body: ErrorBody = { error: err.code, message: err.message };
      if (err.details !== undefined) body.details = err.details;
      if (err.status >= 500)
        logger.error({ err: { code: err.code, message: err.message }, path: req.path }, 'request failed');
      res.status(err.status).json(body);
      return;
    }
    // body-parser errors carry a status and a type; they are the caller's fault.
    const status =
      typeof err?.status === 'number' ? err.status : typeof err?.statusCode === 'number' ? err.statusCode : 500;
    if (status === 413) {
      res.status(413).json({
        error: 'payload_too_large',
        message: 'The request body is too large. Send fewer rows per run.',
      } satisfies ErrorBody);
      return;
    }
    if (status === 400 && err?.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'bad_json', message: 'The request body is not valid JSON.' } satisfies ErrorBody);
      return;
    }
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: 'bad_request', message: 'The request could not be read.' } satisfies ErrorBody);
      return;
    }
    logger.error(
      { err: { name: err?.name, message: String(err?.message ?? err) }, path: req.path },
      'unexpected error',
    );
    res.status(500).json({
      error: 'internal',
      message: 'Something went wrong on our side. Try again in a minute.',
    } satisfies ErrorBody);
  };
}
