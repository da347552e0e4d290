/**
 * A Postato sandbox and the real service (buildService) on a temporary SQLite file, with a compressed rate window,
 * plus helpers to post runs and wait for them. Shared by the run tests and the integration tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { ServiceSender } from '../fakes/sheet-proof-helper';
import { loadConfig, type Config } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { buildService, type Service, type ServiceOverrides } from '../../src/service';
import { startPostatoSandbox, type PostatoSandbox, type SandboxSettingsPatch } from '../../src/sandbox/postato-sandbox';
import type { RunMode, RunRequest, RunStatusResponse, RowResult } from '../../appsscript/shared/contract';
import { createFakeGoogleIssuer } from '../http/google-token-fixtures';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';

export const WS = 'wks_01KIT';
/** The sheet contract's full header: input columns, then output columns. */
export const HEADER: string[] = [...INPUT_COLUMNS, ...OUTPUT_COLUMNS];
export const ACCOUNTS = Array.from({ length: 8 }, (_, i) => ({
  id: `acc_x${i}`,
  workspaceId: WS,
  platform: 'twitter',
  username: `x${i}`,
  status: 'connected' as const,
}));

/** A fresh fake Postato key. */
export const fakeApiKey = (): string => 'smcp_' + randomBytes(32).toString('hex');

/** One sheet row: key, content and optional output columns. */
export interface KitRow {
  key: string;
  content?: string;
  account?: string;
  scheduledAt?: string;
  postId?: string;
  /** Platform cell (default x) and Media cell. */
  platform?: string;
  media?: string;
}

/** Sheet rows in the contract's column order, starting at row 2. */
export function rowsOf(specs: KitRow[]): RunRequest['rows'] {
  return specs.map((s, i) => {
    const byCol: Record<string, string> = {
      Key: s.key,
      Platform: s.platform ?? 'x',
      Media: s.media ?? '',
      Account: s.account ?? ACCOUNTS[i % ACCOUNTS.length]!.id,
      Content: s.content ?? `Post for ${s.key}`,
      'Scheduled at': s.scheduledAt ?? '',
      'Post ID': s.postId ?? '',
    };
    return { rowNumber: i + 2, values: HEADER.map((h) => byCol[h] ?? '') };
  });
}

/** `n` good rows with keys k0..k(n-1). */
export const goodRows = (n: number, prefix = 'k'): KitRow[] =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}` }));

/** The POST /v1/runs body the add-on sends for `rows` of the kit's "Posts" tab (New York time, workspace WS). */
export function runRequestOf(
  mode: RunMode,
  rows: KitRow[],
  o: { spreadsheetId?: string; onlyKeys?: string[] } = {},
): RunRequest {
  return {
    mode,
    spreadsheetId: o.spreadsheetId ?? 'sheet-kit',
    sheetName: 'Posts',
    sheetId: 0,
    spreadsheetTimeZone: 'America/New_York',
    workspaceId: WS,
    header: HEADER,
    rows: rowsOf(rows),
    ...(o.onlyKeys ? { onlyKeys: o.onlyKeys } : {}),
  };
}

/** POSTs a run to a service at `url` (a child process) as the shared-secret organisation, like the add-on. */
export function postRunTo(url: string, secret: string, apiKey: string, body: RunRequest): request.Test {
  return request(url)
    .post('/v1/runs')
    .set('X-Shared-Secret', secret)
    .set('X-User-Id', 'manager')
    .set('X-Postato-Api-Key', apiKey)
    .send(body);
}

export interface Kit {
  sandbox: PostatoSandbox;
  service: Service;
  config: Config;
  dbFile: string;
  secret: string;
  /**
   * Posts a run. Without `user` the caller is the shared-secret organisation (the add-on of a self-hosted install);
   * with `user` it is that Google account (`google:<user>`), signed by the kit's fake Google issuer.
   */
  run(
    mode: RunMode,
    rows: KitRow[],
    o?: { apiKey?: string; user?: string; spreadsheetId?: string; onlyKeys?: string[] },
  ): request.Test;
  /** The credential headers of the organisation (no `user`) or of a Google account. */
  as(user?: string): Record<string, string>;
  /** POSTs JSON to the service as the organisation or a Google account (for the proof of access helper). */
  sender(user?: string): ServiceSender;
  status(runId: string, since?: string, user?: string): Promise<RunStatusResponse>;
  waitDone(runId: string, timeoutMs?: number, user?: string): Promise<RunStatusResponse>;
  /** Every result of a run, by row key (the latest of each). */
  results(runId: string): Promise<Map<string, RowResult>>;
  close(): Promise<void>;
}

export interface KitOptions {
  sandbox?: SandboxSettingsPatch;
  env?: Record<string, string>;
  overrides?: ServiceOverrides;
  /** Reuse an existing sandbox (restarts). */
  existingSandbox?: PostatoSandbox;
  dbFile?: string;
}

/** Compressed limits shared by the sandbox and the service: 30 creations per 1 s window. */
export const FAST_LIMITS = { create: 30, write: 30, read: 600, windowMs: 1000 };

/** The OAuth client id whose tokens the kit's service accepts, and the issuer that signs them. */
export const KIT_CLIENT_ID = 'kit-client.apps.googleusercontent.com';
export const kitIssuer = createFakeGoogleIssuer(KIT_CLIENT_ID);

export function kitEnv(
  sandboxUrl: string,
  dbFile: string,
  secret: string,
  env: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_SHARED_SECRET: secret,
    GOOGLE_OAUTH_CLIENT_IDS: KIT_CLIENT_ID,
    POSTATO_API_URL: sandboxUrl,
    POSTATO_TIMEOUT_MS: '800',
    POSTATO_CREATE_LIMIT: String(FAST_LIMITS.create),
    POSTATO_UPDATE_LIMIT: String(FAST_LIMITS.write),
    POSTATO_WINDOW_MS: String(FAST_LIMITS.windowMs),
    POSTATO_MAX_ATTEMPTS: '8',
    DATABASE_URL: `sqlite:${dbFile}`,
    DISPATCH_POLL_MS: '20',
    DISPATCH_LEASE_MS: '1500',
    DISPATCH_CONCURRENCY: '8',
    REQUESTS_PER_MINUTE: '100000',
    REQUESTS_PER_MINUTE_PER_ADDRESS: '100000',
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...env,
  };
}

export function tempDbFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-')), 'ledger.db');
}

/** Starts a sandbox (unless given) and the service on a temp SQLite file. */
export async function startKit(o: KitOptions = {}): Promise<Kit> {
  const sandbox =
    o.existingSandbox ??
    (await startPostatoSandbox({
      settings: { accounts: ACCOUNTS, limits: FAST_LIMITS, ...o.sandbox },
      tickIntervalMs: 0,
    }));
  const dbFile = o.dbFile ?? tempDbFile();
  const secret = randomBytes(16).toString('hex');
  const config = loadConfig(kitEnv(sandbox.url, dbFile, secret, o.env));
  const service = await buildService(config, {
    logger: silentLogger,
    backoffBaseMs: 50,
    ...o.overrides,
    app: { auth: { certsProvider: kitIssuer.certsProvider }, ...o.overrides?.app },
  });
  const defaultKey = fakeApiKey();

  const kit: Kit = {
    sandbox,
    service,
    config,
    dbFile,
    secret,
    run(mode, rows, ro = {}) {
      return request(service.app)
        .post('/v1/runs')
        .set(kit.as(ro.user))
        .set('X-Postato-Api-Key', ro.apiKey ?? defaultKey)
        .send(runRequestOf(mode, rows, ro));
    },
    as(user): Record<string, string> {
      if (user === undefined) return { 'X-Shared-Secret': secret, 'X-User-Id': 'manager' };
      return { Authorization: `Bearer ${kitIssuer.token({ sub: user, email: `${user}@example.com` })}` };
    },
    sender(user) {
      return async (route, body) => {
        const res = await request(service.app)
          .post(route)
          .set(kit.as(user))
          .send(body as object);
        return { status: res.status, body: res.body as unknown };
      };
    },
    async status(runId, since, user) {
      const res = await request(service.app)
        .get(`/v1/runs/${runId}${since ? `?since=${since}` : ''}`)
        .set(kit.as(user));
      if (res.status !== 200) throw new Error(`status ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as RunStatusResponse;
    },
    async waitDone(runId, timeoutMs = 30_000, user) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const s = await kit.status(runId, undefined, user);
        if (s.state !== 'running' && s.state !== 'queued') return s;
        if (Date.now() > until)
          throw new Error(`run ${runId} not done after ${timeoutMs} ms: ${JSON.stringify(s.counts)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async results(runId) {
      const map = new Map<string, RowResult>();
      let cursor = '0';
      for (;;) {
        const s = await kit.status(runId, cursor);
        for (const r of s.results) map.set(r.key, r);
        if (s.cursor === cursor) return map;
        cursor = s.cursor;
      }
    },
    async close() {
      await service.close();
      if (!o.existingSandbox) await sandbox.close();
    },
  };
  return kit;
}

/** Posts in the sandbox whose content names a row key, counted per key. */
export function postsPerKey(sandbox: PostatoSandbox, includeCancelled = true): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of sandbox.inspect().posts) {
    if (!includeCancelled && p.status === 'cancelled') continue;
    const m = /Post for (\S+)/.exec(p.content[0]?.text ?? '');
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return counts;
}
