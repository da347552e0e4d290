/**
 * Authentication of the add-on: a Google identity token (default) or a shared secret (self-hosted), never neither.
 * The middleware sets the caller's Identity on res.locals; routes read it with getIdentity(res). Nothing a caller
 * asserts (a header value) makes it an admin or another user: those come from verified tokens and configuration.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Config } from '../config';
import { ConfigError } from '../config';
import { ForbiddenError, UnauthorizedError } from '../errors';
import { SHARED_SECRET_HEADER } from '../../appsscript/shared/contract';
import { setIdentity } from './identity';
import type { Identity } from '../runs/identity';
import type { AuthFailureThrottle } from './address-limits';
import { createGoogleIdTokenVerifier, type CertsProvider, type GoogleIdTokenVerifier } from './google-id-token';

/**
 * Header with the per-user key of a shared-secret install (Session.getTemporaryActiveUserKey()). Anyone holding the
 * secret could send any value, so it is only a label for logs, never an identity: see fromSharedSecret.
 */
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

/** The one identity of every shared-secret caller: the organisation that holds the secret. */
export const SHARED_SECRET_SUBJECT = 'secret:organisation';

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

/**
 * True when `email` matches the allow-list (exact emails or `@domain`s); an empty list allows any verified account.
 * An `@domain` entry admits only accounts of that Google Workspace domain (the token's `hd` claim): a consumer Google
 * account can carry any address, so such an account is admitted only when its full address is listed.
 */
export function isEmailAllowed(
  email: string | undefined,
  allowed: readonly string[],
  hostedDomain: string | undefined,
): boolean {
  if (allowed.length === 0) return true;
  if (!email) return false;
  const lower = email.toLowerCase();
  const domain = lower.slice(lower.lastIndexOf('@') + 1);
  const hd = hostedDomain?.toLowerCase();
  return allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith('@') ? e.slice(1) === domain && hd === domain : e === lower;
  });
}

/** True when a verified Google account is an admin: ADMIN_EMAILS lists its email (or its `google:<sub>` subject). */
export function isAdminIdentity(subject: string, email: string | undefined, admins: readonly string[]): boolean {
  const lower = admins.map((a) => a.toLowerCase());
  return lower.includes(subject.toLowerCase()) || (email !== undefined && lower.includes(email.toLowerCase()));
}

/**
 * The middleware that authenticates every request it sees, or fails it with 401/403. With a throttle, an address
 * that failed too often gets 429 before its credentials are even looked at, and every failure is counted.
 */
export function createAuthMiddleware(
  config: AuthConfig,
  opts: AuthOptions = {},
  throttle?: AuthFailureThrottle,
): RequestHandler {
  const verify =
    opts.verifyGoogleIdToken ??
    createGoogleIdTokenVerifier({ clientIds: config.GOOGLE_OAUTH_CLIENT_IDS, certsProvider: opts.certsProvider });
  return async (req, res, next) => {
    await throttle?.check(req, (seconds) => res.setHeader('Retry-After', String(seconds)));
    const identity = await authenticate(req, config, verify).catch(async (err: unknown) => {
      if (err instanceof UnauthorizedError || err instanceof ForbiddenError) await throttle?.recordFailure(req);
      throw err;
    });
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
    if (!isEmailAllowed(claims.email, config.AUTH_ALLOWED, claims.hostedDomain)) {
      throw new ForbiddenError(
        'This Google account is not allowed to use this service. Ask the administrator to add your email or domain to AUTH_ALLOWED (a domain admits only accounts of its Google Workspace; add other accounts by full address).',
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
  // Shared-secret mode is single-organisation: whoever holds the secret can send any X-User-Id, so every caller is the
  // same identity (all runs of the install are the organisation's) and nobody becomes an admin through a header.
  return {
    subject: SHARED_SECRET_SUBJECT,
    via: 'secret',
    isAdmin: false,
    ...(userId !== undefined ? { label: userId } : {}),
  };
}
