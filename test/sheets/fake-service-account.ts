/** Builds a throwaway service account at test time: a fresh RSA key pair and a key JSON whose token_uri is the fake's. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { ServiceAccountKey } from '../../src/sheets/sheets-credentials';

export interface FakeServiceAccount {
  key: ServiceAccountKey;
  publicKeyPem: string;
  email: string;
}

/** A new key pair; call withTokenUri once the fake's URL is known. */
export function makeFakeServiceAccount(): FakeServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = `writer-${randomBytes(3).toString('hex')}@postato-test.iam.gserviceaccount.com`;
  return {
    email,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    key: {
      client_email: email,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      private_key_id: randomBytes(8).toString('hex'),
    },
  };
}

/** The key JSON pointing its token_uri at the fake. */
export function withTokenUri(sa: FakeServiceAccount, tokenUri: string): ServiceAccountKey {
  return { ...sa.key, token_uri: tokenUri };
}
