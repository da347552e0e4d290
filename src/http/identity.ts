/** Who is calling: set by the auth middleware on res.locals, read by routes to scope runs to their owner. */
import type { Response } from 'express';
import { UnauthorizedError } from '../errors';

export interface Identity {
  /** Stable id of the caller: a Google `sub`, or `secret:<user id>` for shared-secret installs. */
  subject: string;
  email?: string;
  via: 'google' | 'secret';
  isAdmin: boolean;
}

export function setIdentity(res: Response, identity: Identity): void {
  res.locals.identity = identity;
}

/** The authenticated caller; throws 401 if the auth middleware did not run or let the request through unauthenticated. */
export function getIdentity(res: Response): Identity {
  const identity = res.locals.identity as Identity | undefined;
  if (!identity) throw new UnauthorizedError();
  return identity;
}
