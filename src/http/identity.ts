/** Who is calling: set by the auth middleware on res.locals, read by routes to scope runs to their owner. */
import type { Response } from 'express';
import { UnauthorizedError } from '../errors';
import type { Identity } from '../runs/identity';

export function setIdentity(res: Response, identity: Identity): void {
  res.locals.identity = identity;
}

/** The authenticated caller; throws 401 if the auth middleware did not run or let the request through unauthenticated. */
export function getIdentity(res: Response): Identity {
  const identity = res.locals.identity as Identity | undefined;
  if (!identity) throw new UnauthorizedError();
  return identity;
}
