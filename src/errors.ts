/**
 * The service's error hierarchy. Each error has a stable snake_case code, an HTTP status,
 * a `retryable` flag and an optional `cause`. Messages are written for the person who can fix the problem
 * and never contain credentials.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details?: unknown;

  constructor(
    code: string,
    message: string,
    opts: { status?: number; retryable?: boolean; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
  }
}

/** The request is malformed or fails validation (400). */
export class BadRequestError extends AppError {
  constructor(message: string, details?: unknown, code = 'bad_request') {
    super(code, message, { status: 400, details });
  }
}

/** The caller is not authenticated (401). */
export class UnauthorizedError extends AppError {
  constructor(message = 'Sign-in is required: the request carried no valid identity token or secret.') {
    super('unauthorized', message, { status: 401 });
  }
}

/** The caller is authenticated but not allowed (403). */
export class ForbiddenError extends AppError {
  constructor(message: string, code = 'forbidden') {
    super(code, message, { status: 403 });
  }
}

/** The resource does not exist or is not visible to the caller (404). */
export class NotFoundError extends AppError {
  constructor(message = 'Not found.', code = 'not_found') {
    super(code, message, { status: 404 });
  }
}

/** The request conflicts with current state, e.g. a run already active for the sheet (409). */
export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict', details?: unknown) {
    super(code, message, { status: 409, details });
  }
}

/** The request is too large (413). */
export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super('payload_too_large', message, { status: 413 });
  }
}

/** The caller is sending too many requests (429). */
export class TooManyRequestsError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super('too_many_requests', message, { status: 429, retryable: true });
  }
}
