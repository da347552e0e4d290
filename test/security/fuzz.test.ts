/**
 * Fuzzing the edges with fast-check: random rows and payloads through POST /v1/runs (dry run), random webhook
 * bodies (correctly signed, so they get past the signature) and random credentials. None may produce a 500.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import request from 'supertest';
import { createApp } from '../../src/app';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { createRunsRouter } from '../../src/http/runs-routes';
import { silentLogger } from '../../src/logger';
import { createPostatoWebhookRouter, POSTATO_WEBHOOK_PATH } from '../../src/webhooks/postato-webhook-router';
import { webhookSignatureHeader } from '../../src/webhooks/webhook-signature';
import { INPUT_COLUMNS, OUTPUT_COLUMNS, PLATFORMS } from '../../appsscript/shared/sheet-columns';
import { createFakeGoogleIssuer } from '../http/google-token-fixtures';
import { InMemoryWebhookSecretStore, InMemoryWebhookSink } from '../webhooks/in-memory-webhook-fakes';

const CLIENT = 'fuzz-client.apps.googleusercontent.com';
const issuer = createFakeGoogleIssuer(CLIENT);
const clock = new ManualClock(Date.UTC(2031, 0, 15, 15, 0, 0));
const sharedSecret = randomBytes(24).toString('hex');
const webhookSecret = 'whsec_' + randomBytes(24).toString('hex');
const apiKey = 'smcp_' + randomBytes(32).toString('hex');
const config = loadConfig({
  NODE_ENV: 'test',
  AUTH_SHARED_SECRET: sharedSecret,
  GOOGLE_OAUTH_CLIENT_IDS: CLIENT,
  MAX_ROWS_PER_RUN: '20',
  REQUESTS_PER_MINUTE: '100000',
  REQUESTS_PER_MINUTE_PER_ADDRESS: '100000',
  // Random credentials from one address on purpose: the lock-out after failed sign-ins has its own test.
  AUTH_FAILURES_PER_MINUTE: '100000',
});
const secrets = new InMemoryWebhookSecretStore();
void secrets.saveSecret('wks_1', webhookSecret);
const sink = new InMemoryWebhookSink(new Set(['pst_1']));
const app = createApp({
  config,
  logger: silentLogger,
  auth: { certsProvider: issuer.certsProvider },
  routers: [
    createRunsRouter({
      config,
      clock,
      logger: silentLogger,
      postatoReadFor: () => ({ listAccounts: async () => null, listScheduledPosts: async () => null }),
    }),
    createPostatoWebhookRouter({ sink, secrets, clock, logger: silentLogger }),
  ],
});
const auth = { 'X-Shared-Secret': sharedSecret, 'X-Postato-Api-Key': apiKey };

const cell = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    ...PLATFORMS,
    'x',
    'tweet',
    'feed',
    '2031-02-01 10:00',
    '2031-02-01T10:00:00Z',
    'Europe/Berlin',
    '{"a":1}',
    '=HYPERLINK("x")',
    '',
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const row = fc.record({ rowNumber: fc.integer({ min: -2, max: 100_000 }), values: fc.array(cell, { maxLength: 20 }) });
const header = fc.oneof(
  fc.constant<unknown[]>([...INPUT_COLUMNS, ...OUTPUT_COLUMNS]),
  fc.shuffledSubarray<unknown>([...INPUT_COLUMNS, 'Extra', 7, null]),
);

describe('fuzz: never a 500', () => {
  it('random rows through a dry run answer 200, 400 or 413', async () => {
    await fc.assert(
      fc.asyncProperty(
        header,
        fc.uniqueArray(row, { maxLength: 25, selector: (r) => r.rowNumber }),
        async (hdr, rows) => {
          const res = await request(app).post('/v1/runs').set(auth).send({
            mode: 'dry-run',
            spreadsheetId: 'ss',
            sheetName: 'Posts',
            sheetId: 0,
            spreadsheetTimeZone: 'America/New_York',
            workspaceId: 'wks_1',
            header: hdr,
            rows,
          });
          expect([200, 400, 413]).toContain(res.status);
          if (res.status !== 200) return;
          // No row with content is dropped silently: each gets a verdict (blank rows may be skipped).
          const answered = new Set((res.body.rows as { rowNumber: number }[]).map((r) => r.rowNumber));
          const contentAt = hdr.indexOf('Content');
          for (const r of rows) {
            const content = r.values[contentAt];
            if (contentAt >= 0 && typeof content === 'string' && content.trim() !== '')
              expect(answered).toContain(r.rowNumber);
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('random JSON payloads to POST /v1/runs answer 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())), async (payload) => {
        const res = await request(app)
          .post('/v1/runs')
          .set(auth)
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(payload));
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });

  it('random correctly signed webhook bodies answer 200 or 400', async () => {
    const envelope = fc.record(
      {
        id: fc.oneof(fc.string(), fc.integer()),
        type: fc.constantFrom('post.published', 'post.failed', 'post.queued', '', 'x'),
        createdAt: fc.oneof(fc.string(), fc.constant('2031-01-01T00:00:00Z')),
        data: fc.oneof(
          fc.jsonValue(),
          fc.record(
            { postId: fc.constantFrom('pst_1', 'pst_2', ''), status: fc.string(), error: fc.string() },
            { requiredKeys: [] },
          ),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          envelope.map((e) => JSON.stringify(e)),
          fc.string(),
        ),
        async (body) => {
          const res = await request(app)
            .post(POSTATO_WEBHOOK_PATH)
            .set('Content-Type', 'application/json')
            .set('X-Webhook-Signature', webhookSignatureHeader(webhookSecret, body, Math.floor(clock.now() / 1000)))
            .send(body);
          expect([200, 400]).toContain(res.status);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('random credentials answer 401 or 403', async () => {
    const headerValue = fc.string({ maxLength: 300 }).filter((s) => /^[\x20-\x7e]*$/.test(s));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('Authorization', 'X-Shared-Secret', 'X-User-Id'),
        headerValue,
        async (name, value) => {
          const res = await request(app)
            .get('/v1/runs/abc')
            .set(name, name === 'Authorization' ? `Bearer ${value}` : value);
          expect([401, 403]).toContain(res.status);
        },
      ),
      { numRuns: 150 },
    );
  });
});
