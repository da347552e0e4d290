/**
 * Secrets never leave the service: Postato API keys, shared secrets and identity tokens are scanned for in every
 * captured log line and response body, including when a dependency fails with the key in its error message.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createApp } from '../../src/app';
import { systemClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { createRunsRouter } from '../../src/http/runs-routes';
import { createLogger } from '../../src/logger';
import type { PostatoReadPort } from '../../src/plan/dry-run-ports';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import { createFakeGoogleIssuer } from '../http/google-token-fixtures';
import { findSecretLeaks } from './leak-scan';

const CLIENT = 'sec-client.apps.googleusercontent.com';
const issuer = createFakeGoogleIssuer(CLIENT);

function harness(readPort: (apiKey: string) => PostatoReadPort) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const sharedSecret = randomBytes(24).toString('hex');
  const config = loadConfig({ NODE_ENV: 'test', AUTH_SHARED_SECRET: sharedSecret, GOOGLE_OAUTH_CLIENT_IDS: CLIENT });
  const app = createApp({
    config,
    logger,
    auth: { certsProvider: issuer.certsProvider },
    routers: [createRunsRouter({ config, clock: systemClock, logger, postatoReadFor: readPort })],
  });
  return { app, lines, sharedSecret };
}

const runBody = () => ({
  mode: 'dry-run',
  spreadsheetId: 'ss_1',
  sheetName: 'Posts',
  sheetId: 0,
  spreadsheetTimeZone: 'America/New_York',
  workspaceId: 'wks_1',
  header: [...INPUT_COLUMNS, ...OUTPUT_COLUMNS],
  rows: [{ rowNumber: 2, values: ['k1', 'twitter', 'acc_1', 'tweet', 'hello', '', '2031-05-01 10:00', '', '', ''] }],
});

describe('secret hygiene', () => {
  it('when requests carry a Postato key, a shared secret and an identity token, then none appears in any log line or body', async () => {
    const apiKey = 'smcp_' + randomBytes(32).toString('hex');
    const { app, lines, sharedSecret } = harness(() => ({
      listAccounts: async () => null,
      listScheduledPosts: async () => null,
    }));
    const token = issuer.token();
    const send = (headers: Record<string, string>) => request(app).post('/v1/runs').set(headers).send(runBody());
    const answers = [
      await send({ 'X-Shared-Secret': sharedSecret, 'X-Postato-Api-Key': apiKey }),
      await send({ Authorization: `Bearer ${token}`, 'X-Postato-Api-Key': apiKey }),
      await send({ 'X-Shared-Secret': sharedSecret, 'X-Postato-Api-Key': apiKey.slice(0, 30) }),
      await send({ 'X-Shared-Secret': sharedSecret + 'x', 'X-Postato-Api-Key': apiKey }),
    ];
    // Each request got as far as it should, so "no leak" is not the trivial result of requests refused at the door:
    // both accepted credentials reach the planner (a dry run of the row), the truncated key reaches the key check
    // (whose message must not echo it), and the wrong secret reaches auth.
    expect(answers.map((a) => [a.status, a.body.error ?? a.body.mode])).toEqual([
      [200, 'dry-run'],
      [200, 'dry-run'],
      [400, 'postato_key_malformed'],
      [401, 'unauthorized'],
    ]);
    expect(answers[0]!.body.rows.map((r: { key: string }) => r.key)).toEqual(['k1']);
    const bodies = answers.map((a) => a.text);
    expect(lines.length).toBeGreaterThan(0);
    expect(findSecretLeaks([...lines, ...bodies], [apiKey, sharedSecret, token])).toEqual([]);
  });

  it('when a dependency fails with the key inside its error message, then the 500 is generic and the log is scrubbed', async () => {
    const apiKey = 'smcp_' + randomBytes(32).toString('hex');
    const { app, lines, sharedSecret } = harness((key) => ({
      listAccounts: async () => {
        throw new Error(`upstream refused Authorization: Bearer ${key} (key ${key})`);
      },
      listScheduledPosts: async () => null,
    }));
    const res = await request(app)
      .post('/v1/runs')
      .set('X-Shared-Secret', sharedSecret)
      .set('X-Postato-Api-Key', apiKey)
      .send(runBody());
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('internal');
    expect(lines.join('')).toMatch(/unexpected error/);
    expect(findSecretLeaks([...lines, res.text], [apiKey])).toEqual([]);
  });
});
