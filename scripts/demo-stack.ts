/**
 * The demo wiring: a Postato sandbox, a Sheets fake holding one spreadsheet, and the real service between them, all
 * on 127.0.0.1. Used by `npm run demo`, the browser test and benchmarks. Product code never imports this file.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { loadConfig, type Config } from '../src/config';
import { silentLogger, type Logger } from '../src/logger';
import { buildService, type Service } from '../src/service';
import { createHttpServer } from '../src/http/http-server';
import { startPostatoSandbox, type PostatoSandbox } from '../src/sandbox/postato-sandbox';
import { startSheetsFake, type SheetsFake } from '../src/sandbox/sheets-fake';
import type { SandboxSettingsPatch } from '../src/sandbox/postato-sandbox';
import { fetchSender, proveSheetAccess } from '../src/sandbox/sheets-fake-proof';

export interface DemoStack {
  config: Config;
  service: Service;
  /** Base URL of the service. */
  url: string;
  sandbox: PostatoSandbox;
  sheets: SheetsFake;
  serviceAccountEmail: string;
  /** Headers every add-on call carries (shared secret + the Postato key). */
  headers: Record<string, string>;
  apiKey: string;
  /** Proves, as the add-on does, that the demo caller can edit a spreadsheet of the Sheets fake (before any run on it). */
  proveAccess(spreadsheetId: string): Promise<void>;
  close(): Promise<void>;
}

export interface DemoStackOptions {
  /** SQLite file or postgres URL; default a throwaway SQLite file in the OS temp folder. */
  databaseUrl?: string;
  /** Extra environment for loadConfig (e.g. compressed POSTATO_WINDOW_MS). */
  env?: Record<string, string>;
  sandboxSettings?: SandboxSettingsPatch;
  logger?: Logger;
}

/** A fresh Postato key: in the sandbox's demo mode any well-formed key is its own tenant. */
export function demoApiKey(): string {
  return `smcp_${randomBytes(32).toString('hex')}`;
}

/** Starts the sandbox, the Sheets fake and the service (listening on an ephemeral port). */
export async function startDemoStack(opts: DemoStackOptions = {}): Promise<DemoStack> {
  // The sample campaign names a media id no upload created; tests that need strict media refs set unknownRefs.
  const sandbox = await startPostatoSandbox({
    settings: { ...opts.sandboxSettings, media: { unknownRefs: 'accept', ...opts.sandboxSettings?.media } },
  });
  // A throwaway service account: the real JWT grant runs against the fake's token endpoint.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sheets = await startSheetsFake({
    serviceAccountPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  const serviceAccountEmail = 'postato-sheets-demo@demo-project.iam.gserviceaccount.com';
  const serviceAccountJson = JSON.stringify({
    type: 'service_account',
    client_email: serviceAccountEmail,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    private_key_id: randomBytes(8).toString('hex'),
    token_uri: sheets.tokenUrl,
  });
  const secret = randomBytes(24).toString('hex');
  const databaseUrl =
    opts.databaseUrl ?? `sqlite:${path.join(os.tmpdir(), `postato-sheets-demo-${randomBytes(6).toString('hex')}.db`)}`;
  const config = loadConfig({
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    POSTATO_API_URL: sandbox.url,
    POSTATO_TIMEOUT_MS: '5000',
    SHEETS_API_URL: sheets.url,
    GOOGLE_SERVICE_ACCOUNT_JSON: serviceAccountJson,
    WRITEBACK_FLUSH_MS: '300',
    AUTH_SHARED_SECRET: secret,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DISPATCH_POLL_MS: '50',
    DISPATCH_LEASE_MS: '30000',
    ...opts.env,
  });
  const service = await buildService(config, { logger: opts.logger ?? silentLogger });
  const server: Server = await new Promise((resolve) => {
    const s = createHttpServer(service.app, config);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const apiKey = demoApiKey();
  const headers = { 'x-shared-secret': secret, 'x-user-id': 'demo-user', 'x-postato-api-key': apiKey };
  return {
    config,
    service,
    url,
    sandbox,
    sheets,
    serviceAccountEmail,
    apiKey,
    headers,
    proveAccess: (spreadsheetId) => proveSheetAccess(fetchSender(url, headers), sheets, spreadsheetId),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await service.close();
      await sheets.close();
      await sandbox.close();
      if (databaseUrl.startsWith('sqlite:') && !opts.databaseUrl) {
        for (const suffix of ['', '-wal', '-shm'])
          fs.rmSync(databaseUrl.slice('sqlite:'.length) + suffix, { force: true });
      }
    },
  };
}
