/**
 * Authentication of the add-on: a Google identity token (default) or a shared secret (self-hosted), never neither.
 * The middleware sets the caller's Identity on res.locals; routes read it with getIdentity(res).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Config } from '../config';
import { ConfigError } from '../config';
import { ForbiddenError, UnauthorizedError } from '../errors';
import { SHARED_SECRET_HEADER } from '../../appsscript/shared/contract';
import { setIdentity } from './identity';
import type { Identity } from '../runs/identity';
import { createGoogleIdTokenVerifier, type CertsProvider, type GoogleIdTokenVerifier } from './google-id-token';

/** Header with the per-user key of a shared-secret install (Session.getTemporaryActiveUserKey()). */
export const USER_ID_HEADER = 'x-user-id';

/** The settings auth reads. */
export type AuthConfig = Pick<
  Config,
  'AUTH_SHARED_SECRET' | 'GOOGLE_OAUTH_CLIENT_IDS' | 'AUTH_ALLOWED' | 'ADMIN_EMAILS'
>;

/** Test seams: a custom token verifier, or just the certificates the default one checks against. */
export interface AuthOptions {
  verifyGoogleIdToken?: GoogleIdTokenVerifier;
  certsProvider?: CertsProvider;
}

const USER_ID_PATTERN = /^[A-Za-z0-9._:@+/=-]{1,128}$/;

/** Throws at start-up when no way to authenticate is configured: there is no unauthenticated mode. */
export function startupAuthCheck(config: AuthConfig): void {
  if (!config.AUTH_SHARED_SECRET && config.GOOGLE_OAUTH_CLIENT_IDS.length === 0) {
    throw new ConfigError([
      "AUTH_SHARED_SECRET / GOOGLE_OAUTH_CLIENT_IDS: set at least one. GOOGLE_OAUTH_CLIENT_IDS (the add-on's OAuth client ids) " +
        'enables Google sign-in; AUTH_SHARED_SECRET enables the self-hosted shared secret. The service refuses to run unauthenticated.',
    ]);
  }
  if (config.AUTH_SHARED_SECRET && config.AUTH_SHARED_SECRET.length < 16) {
    throw new ConfigError(['AUTH_SHARED_SECRET: use at least 16 characters (e.g. `openssl rand -hex 32`).']);
  }
}

/** Compares two secrets in constant time (hashing first so lengths never leak through timing). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** True when `email` matches the allow-list (exact emails or `@domain`s); an empty list allows any verified account. */
export function isEmailAllowed(email: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  if (!email) return false;
  const lower = email.toLowerCase();
  const domain = lower.slice(lower.lastIndexOf('@'));
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('@') ? e === domain : e === lower;
  });
}

/** True when the caller is an admin: ADMIN_EMAILS lists its email, or its subject (e.g. `secret:ops`). */
export function isAdminIdentity(subject: string, email: string | undefined, admins: readonly string[]): boolean {
  const lower = admins.map((a) => a.toLowerCase());
  return lower.includes(subject.toLowerCase()) || (email !== undefined && lower.includes(email.toLowerCase()));
}

/** The middleware that authenticates every request it sees, or fails it with 401/403. */
export function createAuthMiddleware(config: AuthConfig, opts: AuthOptions = {}): RequestHandler {
  const verify =
    opts.verifyGoogleIdToken ??
    createGoogleIdTokenVerifier({ clientIds: config.GOOGLE_OAUTH_CLIENT_IDS, certsProvider: opts.certsProvider });
  return async (req, res, next) => {
    const identity = await authenticate(req, config, verify);
    setIdentity(res, identity);
    next();
  };
}

async function authenticate(req: Request, config: AuthConfig, verify: GoogleIdTokenVerifier): Promise<Identity> {
  const secret = req.get(SHARED_SECRET_HEADER);
  const authorization = req.get('authorization');
  if (secret !== undefined) return fromSharedSecret(req, secret, config);
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new UnauthorizedError('The Authorization header must be "Bearer <Google identity token>".');
    const claims = await verify(match[1]);
    if (!isEmailAllowed(claims.email, config.AUTH_ALLOWED)) {
      throw new ForbiddenError(
        'This Google account is not allowed to use this service. Ask the administrator to add your email or domain to AUTH_ALLOWED.',
        'not_allowed',
      );
    }
    const subject = `google:${claims.sub}`;
    return {
      subject,
      email: claims.email,
      via: 'google',
      isAdmin: isAdminIdentity(subject, claims.email, config.ADMIN_EMAILS),
    };
  }
  throw new UnauthorizedError(
    'Sign-in is required: send a Google identity token (Authorization: Bearer …) or, on a self-hosted install, the X-Shared-Secret header.',
  );
}

function fromSharedSecret(req: Request, given: string, config: AuthConfig): Identity {
  if (!config.AUTH_SHARED_SECRET) {
    throw new UnauthorizedError('This service does not accept a shared secret; sign in with Google instead.');
  }
  if (!secretsEqual(given, config.AUTH_SHARED_SECRET)) {
    throw new UnauthorizedError('The shared secret is wrong. Copy it again from the service settings into the add-on.');
  }
  const userId = req.get(USER_ID_HEADER);
  if (userId !== undefined && !USER_ID_PATTERN.test(userId)) {
    throw new UnauthorizedError('The X-User-Id header must be 1–128 characters of letters, digits and ._:@+/=-');
  }
  const subject = `secret:${userId ?? 'default'}`;
  return { subject, via: 'secret', isAdmin: isAdminIdentity(subject, undefined, config.ADMIN_EMAILS) };
}
