/**
 * Isolation helpers: a run belongs to the identity that started it, and only that identity and admins may see or
 * control it. Everyone else gets the same 404 as for a run that does not exist, so run ids cannot be probed.
 */
import { NotFoundError } from '../errors';
import type { Identity } from './identity';

/** True when `identity` may see and control a run owned by `ownerSubject`. */
export function canAccessRun(identity: Identity, ownerSubject: string): boolean {
  return identity.isAdmin || identity.subject === ownerSubject;
}

/**
 * Returns the run when the caller may access it; otherwise throws the 404 a missing run gets.
 * Pass `undefined` for a run that was not found.
 */
export function requireRunAccess<T extends { ownerSubject: string }>(identity: Identity, run: T | undefined): T {
  if (!run || !canAccessRun(identity, run.ownerSubject)) {
    throw new NotFoundError(
      'No run with this id is visible to you. Start a new run from the sidebar.',
      'run_not_found',
    );
  }
  return run;
}
