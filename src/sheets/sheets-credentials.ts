/**
 * Resolves the credentials the Sheets client uses: a service account (JSON text or key file, signed JWT-bearer grant
 * against the account's `token_uri`) and, for short runs, an access token the add-on forwarded for the user.
 * Nothing here ever logs or repeats a key or token.
 */
import { readFileSync } from 'node:fs';
import { google } from 'googleapis';
import { AppError } from '../errors';

/** OAuth scope for reading and writing spreadsheet values. */
export const SHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';
/** The token endpoint Google's libraries hard-code; other `token_uri`s are reached by rewriting requests to it. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** The fields of a service-account key file the service uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/** The google-auth-library client types as googleapis sees them. */
export type ServiceAccountAuth = InstanceType<typeof google.auth.JWT>;
export type UserAuth = InstanceType<typeof google.auth.OAuth2>;

function invalid(source: string, why: string): AppError {
  return new AppError(
    'sheets_credentials_invalid',
    `${source} ${why}. Provide a Google service-account key (JSON with client_email and private_key).`,
  );
}

/** Parses and checks a service-account key given as JSON text; the message names the source, never the content. */
export function parseServiceAccountKey(jsonText: string, source = 'GOOGLE_SERVICE_ACCOUNT_JSON'): ServiceAccountKey {
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch {
    throw invalid(source, 'is not valid JSON');
  }
  const k = raw as Partial<ServiceAccountKey> | null;
  if (!k || typeof k.client_email !== 'string' || !k.client_email.includes('@'))
    throw invalid(source, 'has no client_email');
  if (typeof k.private_key !== 'string' || !k.private_key.includes('PRIVATE KEY'))
    throw invalid(source, 'has no private_key');
  return {
    client_email: k.client_email,
    private_key: k.private_key,
    private_key_id: typeof k.private_key_id === 'string' ? k.private_key_id : undefined,
    token_uri: typeof k.token_uri === 'string' ? k.token_uri : undefined,
  };
}

/**
 * Finds the service account from the configuration: GOOGLE_SERVICE_ACCOUNT_JSON (the JSON text) wins over
 * GOOGLE_APPLICATION_CREDENTIALS (a file path). Returns null when neither is set.
 */
export function loadServiceAccountKey(config: {
  GOOGLE_SERVICE_ACCOUNT_JSON?: string;
  GOOGLE_APPLICATION_CREDENTIALS?: string;
}): ServiceAccountKey | null {
  if (config.GOOGLE_SERVICE_ACCOUNT_JSON) return parseServiceAccountKey(config.GOOGLE_SERVICE_ACCOUNT_JSON);
  if (config.GOOGLE_APPLICATION_CREDENTIALS) {
    let text: string;
    try {
      text = readFileSync(config.GOOGLE_APPLICATION_CREDENTIALS, 'utf8');
    } catch {
      throw invalid('The file named by GOOGLE_APPLICATION_CREDENTIALS', 'cannot be read');
    }
    return parseServiceAccountKey(text, 'The file named by GOOGLE_APPLICATION_CREDENTIALS');
  }
  return null;
}

/**
 * A JWT client for the service account. google-auth-library always posts the grant to Google's token URL, so when the
 * key names another `token_uri` (the Sheets fake in tests and the demo) that one request is redirected there.
 */
export function createServiceAccountAuth(key: ServiceAccountKey): ServiceAccountAuth {
  const jwt = new google.auth.JWT({
    email: key.client_email,
    key: key.private_key,
    keyId: key.private_key_id,
    scopes: [SHEETS_SCOPE],
    transporterOptions: { fetchImplementation: nativeFetch },
  });
  const tokenUri = key.token_uri;
  if (tokenUri && tokenUri !== GOOGLE_TOKEN_URI) {
    jwt.transporter.interceptors.request.add({
      resolved: async (opts) => {
        if (String(opts.url) === GOOGLE_TOKEN_URI) opts.url = new URL(tokenUri);
        return opts;
      },
    });
  }
  return jwt;
}

/**
 * Node's own fetch for every Google request: gaxios otherwise loads node-fetch through a dynamic import, which
 * fails inside test runners that sandbox modules.
 */
export const nativeFetch: typeof fetch = (input, init) => fetch(input, init);

/** An OAuth2 client that only carries a user's access token: no refresh, so an expired token surfaces as 401. */
export function createUserAuth(accessToken: string): UserAuth {
  const client = new google.auth.OAuth2({ transporterOptions: { fetchImplementation: nativeFetch } });
  client.setCredentials({ access_token: accessToken });
  return client;
}
