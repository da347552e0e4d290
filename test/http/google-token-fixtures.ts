/**
 * Locally generated Google-style signing keys and identity tokens, so auth tests never touch the network.
 * A fake issuer signs RS256 JWTs with a fresh RSA key; its public key PEM stands in for Google's certificates.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { CertsProvider } from '../../src/http/google-id-token';

export interface FakeGoogleIssuer {
  kid: string;
  certsProvider: CertsProvider;
  /** Signs a token; claims default to a valid, verified, unexpired token for `audience`. */
  token(claims?: Record<string, unknown>, opts?: { kid?: string; signWith?: KeyObject }): string;
  /** A key that is not among the published certificates (for forged tokens). */
  otherKey: KeyObject;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Creates an issuer with one published key; `audience` is the default `aud` of its tokens. */
export function createFakeGoogleIssuer(audience: string): FakeGoogleIssuer {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-kid-1';
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    kid,
    otherKey: other.privateKey,
    certsProvider: async () => ({ [kid]: pem }),
    token(claims = {}, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        iss: 'https://accounts.google.com',
        aud: audience,
        sub: '1234567890',
        email: 'manager@example.com',
        email_verified: true,
        // A Google Workspace account of example.com (pass hd: undefined for a consumer account).
        hd: 'example.com',
        iat: now - 10,
        exp: now + 3600,
        ...claims,
      };
      const signed = `${b64url({ alg: 'RS256', typ: 'JWT', kid: opts.kid ?? kid })}.${b64url(payload)}`;
      const signature = sign('RSA-SHA256', Buffer.from(signed), opts.signWith ?? privateKey).toString('base64url');
      return `${signed}.${signature}`;
    },
  };
}
