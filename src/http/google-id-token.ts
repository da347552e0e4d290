/**
 * Verifies Google identity tokens (ScriptApp.getIdentityToken()) with google-auth-library: signature, issuer, expiry
 * and audience. Certificates come from Google in production and from an injected provider in tests, so no test
 * touches the network.
 */
import { OAuth2Client } from 'google-auth-library';
import { UnauthorizedError } from '../errors';

/** Key id → PEM (certificate or public key), the shape Google publishes. */
export type CertsProvider = () => Promise<Record<string, string>>;

/** What a verified token says about the caller. */
export interface GoogleIdentityClaims {
  sub: string;
  email?: string;
  emailVerified: boolean;
  hostedDomain?: string;
}

/** Verifies one identity token; throws UnauthorizedError with a message that never echoes the token. */
export type GoogleIdTokenVerifier = (token: string) => Promise<GoogleIdentityClaims>;

/** The issuers Google uses for identity tokens. */
export const GOOGLE_ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];

/** Certificates fetched from Google; google-auth-library caches them for as long as Cache-Control allows. */
export function googleCertsProvider(client: OAuth2Client = new OAuth2Client()): CertsProvider {
  return async () => (await client.getFederatedSignonCertsAsync()).certs as Record<string, string>;
}

/** Builds a verifier for tokens whose audience is one of `clientIds`. */
export function createGoogleIdTokenVerifier(opts: {
  clientIds: readonly string[];
  certsProvider?: CertsProvider;
}): GoogleIdTokenVerifier {
  const client = new OAuth2Client();
  const certsProvider = opts.certsProvider ?? googleCertsProvider(client);
  const audiences = [...opts.clientIds];
  return async (token) => {
    if (audiences.length === 0) {
      throw new UnauthorizedError(
        'Google sign-in is not enabled on this service: set GOOGLE_OAUTH_CLIENT_IDS, or use the shared secret.',
      );
    }
    let payload: Record<string, unknown> | undefined;
    try {
      const certs = await certsProvider();
      const ticket = await client.verifySignedJwtWithCertsAsync(token, certs, audiences, GOOGLE_ISSUERS);
      payload = ticket.getPayload() as Record<string, unknown> | undefined;
    } catch (err) {
      // google-auth-library's messages quote the whole token; keep only a coarse reason.
      throw new UnauthorizedError(
        `The Google identity token was rejected (${classify(err)}). Reload the add-on to get a fresh token.`,
      );
    }
    if (!payload || typeof payload.sub !== 'string' || payload.sub === '') {
      throw new UnauthorizedError(
        'The Google identity token carries no subject. Reload the add-on to get a fresh token.',
      );
    }
    if (payload.email_verified !== true) {
      throw new UnauthorizedError(
        'The Google account has no verified email address. Verify it with Google, then try again.',
      );
    }
    return {
      sub: payload.sub,
      email: typeof payload.email === 'string' ? payload.email.toLowerCase() : undefined,
      emailVerified: true,
      hostedDomain: typeof payload.hd === 'string' ? payload.hd : undefined,
    };
  };
}

/** Maps google-auth-library's free-text failures to a short reason safe to show. */
function classify(err: unknown): string {
  const msg = err instanceof Error ? err.message : '';
  if (/too late|expir/i.test(msg)) return 'expired';
  if (/too early/i.test(msg)) return 'not yet valid';
  if (/audience|recipient/i.test(msg)) return 'wrong audience';
  if (/issuer/i.test(msg)) return 'wrong issuer';
  if (/signature|No pem found/i.test(msg)) return 'bad signature';
  if (/certificates/i.test(msg)) return 'signing keys unavailable';
  return 'malformed';
}
