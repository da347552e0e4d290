import request from 'supertest';
import { buildTestApp, testConfig, testSecret } from './test-app';
import { createFakeGoogleIssuer } from './google-token-fixtures';

const secret = testSecret();
const auth = (user = 'u1') => ({ 'X-Shared-Secret': secret, 'X-User-Id': user });
const app = buildTestApp(
  testConfig({ AUTH_SHARED_SECRET: secret, BODY_LIMIT: '2kb', MAX_ROWS_PER_RUN: '3', REQUESTS_PER_MINUTE: '1000' }),
);

describe('security headers and CORS', () => {
  it('when any response is sent, then helmet headers are set and no CORS header is, even for a cross-origin caller', async () => {
    const res = await request(app).get('/v1/whoami').set(auth()).set('Origin', 'https://evil.example');
    expect(res.status).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
  it('when a browser sends a CORS preflight, then it is refused with 403 and no Access-Control-Allow-Origin', async () => {
    const res = await request(app)
      .options('/v1/runs')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('cors_forbidden');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('bodies', () => {
  it('when the body is larger than BODY_LIMIT, then 413 with a clear message', async () => {
    const res = await request(app)
      .post('/v1/echo')
      .set(auth())
      .send({ text: 'x'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'payload_too_large', message: expect.stringMatching(/too large/) });
  });
  it('when the body is not valid JSON, then 400 bad_json without parser internals', async () => {
    const res = await request(app)
      .post('/v1/echo')
      .set(auth())
      .set('Content-Type', 'application/json')
      .send('{"rows": [1,');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_json');
    expect(res.text).not.toMatch(/SyntaxError|at JSON|position|node_modules/);
  });
  it('when the body is not JSON at all, then 415', async () => {
    const res = await request(app).post('/v1/echo').set(auth()).set('Content-Type', 'text/plain').send('rows=1');
    expect(res.status).toBe(415);
    expect(res.body.message).toMatch(/application\/json/);
  });
  it('when a run has more rows than MAX_ROWS_PER_RUN, then 413 naming the count and the limit', async () => {
    const rows = Array.from({ length: 4 }, (_, i) => ({ rowNumber: i + 2, values: [] }));
    const res = await request(app).post('/v1/runs').set(auth()).send({ rows });
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/4 rows.*limit is 3/);
    const ok = await request(app)
      .post('/v1/runs')
      .set(auth())
      .send({ rows: rows.slice(0, 3) });
    expect(ok.status).toBe(200);
  });
  it('when the body is a JSON scalar, then 400 (strict JSON objects and arrays only)', async () => {
    const res = await request(app).post('/v1/echo').set(auth()).set('Content-Type', 'application/json').send('"hello"');
    expect(res.status).toBe(400);
  });
});

describe('errors hide internals', () => {
  it('when a route throws an unexpected error, then 500 with a generic message and no stack or internal text', async () => {
    const res = await request(app).get('/v1/boom').set(auth());
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal', message: expect.any(String) });
    expect(res.text).not.toMatch(/hunter2|\/srv|\.ts:|at /);
  });
  it('when an authenticated caller asks an unknown path, then 404', async () => {
    expect((await request(app).get('/v1/nope').set(auth())).status).toBe(404);
  });
});

describe('per-identity rate limit', () => {
  const CLIENT = 'client-rl.apps.googleusercontent.com';
  const issuer = createFakeGoogleIssuer(CLIENT);
  const google = (sub: string) => ({ Authorization: `Bearer ${issuer.token({ sub })}` });
  const limitedApp = (env: Record<string, string>) =>
    buildTestApp(testConfig({ AUTH_SHARED_SECRET: secret, GOOGLE_OAUTH_CLIENT_IDS: CLIENT, ...env }), {
      auth: { certsProvider: issuer.certsProvider },
    });
  it('when one identity exceeds REQUESTS_PER_MINUTE, then it gets 429 with Retry-After, and another identity does not', async () => {
    const limited = limitedApp({ REQUESTS_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i++) expect((await request(limited).get('/v1/whoami').set(google('busy'))).status).toBe(200);
    const res = await request(limited).get('/v1/whoami').set(google('busy'));
    expect(res.status).toBe(429);
    expect(res.body.error).toBe('too_many_requests');
    expect(res.body.message).toMatch(/at most 3 per 60 s/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await request(limited).get('/v1/whoami').set(google('calm'))).status).toBe(200);
  });
  it('when a shared-secret caller rotates X-User-Id to escape the per-user rate, then the per-address limit still binds it', async () => {
    const limited = limitedApp({ REQUESTS_PER_MINUTE: '2', REQUESTS_PER_MINUTE_PER_ADDRESS: '4' });
    for (let i = 0; i < 2; i++) expect((await request(limited).get('/v1/whoami').set(auth('a'))).status).toBe(200);
    expect((await request(limited).get('/v1/whoami').set(auth('a'))).status).toBe(429);
    expect((await request(limited).get('/v1/whoami').set(auth('b'))).status).toBe(200);
    const res = await request(limited).get('/v1/whoami').set(auth('c'));
    expect(res.status).toBe(429);
    expect(res.body.message).toMatch(/from your address/);
  });
  it('when requests are refused by auth, then they are not charged to anybody', async () => {
    const limited = limitedApp({ REQUESTS_PER_MINUTE: '1' });
    for (let i = 0; i < 3; i++)
      await request(limited).get('/v1/whoami').set({ 'X-Shared-Secret': 'wrong-secret-value', 'X-User-Id': 'v' });
    expect((await request(limited).get('/v1/whoami').set(auth('v'))).status).toBe(200);
  });
});

describe('per-address limits', () => {
  it('when one address exceeds REQUESTS_PER_MINUTE_PER_ADDRESS, then even unauthenticated requests get 429 with Retry-After', async () => {
    const limited = buildTestApp(
      testConfig({ AUTH_SHARED_SECRET: secret, REQUESTS_PER_MINUTE: '1000', REQUESTS_PER_MINUTE_PER_ADDRESS: '3' }),
    );
    expect((await request(limited).get('/v1/whoami').set(auth())).status).toBe(200);
    expect((await request(limited).get('/v1/whoami')).status).toBe(401);
    expect((await request(limited).get('/v1/whoami').set(auth('other'))).status).toBe(200);
    const res = await request(limited).get('/v1/whoami').set(auth('yet-another'));
    expect(res.status).toBe(429);
    expect(res.body.message).toMatch(/from your address: at most 3 per 60 s/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // /healthz is outside /v1 and never limited.
    expect((await request(limited).get('/healthz')).status).toBe(200);
  });
  it('when an address fails to sign in more than AUTH_FAILURES_PER_MINUTE times, then it is locked out (429) even with the right secret', async () => {
    const limited = buildTestApp(testConfig({ AUTH_SHARED_SECRET: secret, AUTH_FAILURES_PER_MINUTE: '3' }));
    // Failures below the limit are plain 401s; the right secret still works in between.
    for (let i = 0; i < 3; i++) {
      const res = await request(limited)
        .get('/v1/whoami')
        .set({ 'X-Shared-Secret': `wrong-${i}-secret-value` });
      expect(res.status).toBe(401);
    }
    expect((await request(limited).get('/v1/whoami').set(auth())).status).toBe(200);
    expect((await request(limited).get('/v1/whoami').set({ 'X-Shared-Secret': 'wrong-again' })).status).toBe(401);
    // The fourth failure locks the address: nothing from it is checked any more, not even the right secret.
    for (const headers of [{ 'X-Shared-Secret': 'wrong-once-more' }, auth(), { Authorization: 'Bearer a.b.c' }]) {
      const res = await request(limited).get('/v1/whoami').set(headers);
      expect(res.status).toBe(429);
      expect(res.body.message).toMatch(/Too many failed sign-ins from your address\. Wait \d+ s/);
      // Locked for five windows.
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(60);
    }
  });
});
