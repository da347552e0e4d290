import request from 'supertest';
import { ConfigError } from '../../src/config';
import { isEmailAllowed, secretsEqual, startupAuthCheck } from '../../src/http/auth';
import { createFakeGoogleIssuer } from './google-token-fixtures';
import { buildTestApp, testConfig, testSecret } from './test-app';

const CLIENT_A = 'client-a.apps.googleusercontent.com';
const CLIENT_B = 'client-b.apps.googleusercontent.com';
const issuer = createFakeGoogleIssuer(CLIENT_A);
const secret = testSecret();
const config = testConfig({
  AUTH_SHARED_SECRET: secret,
  GOOGLE_OAUTH_CLIENT_IDS: `${CLIENT_A}, ${CLIENT_B}`,
  AUTH_ALLOWED: '@example.com,boss@other.org',
  // This file signs in wrongly on purpose many times from one address; the lock-out has its own test.
  AUTH_FAILURES_PER_MINUTE: '1000',
  ADMIN_EMAILS: 'admin@example.com,secret:ops,ops-admin,secret:ops-admin,secret:organisation',
});
const app = buildTestApp(config, { auth: { certsProvider: issuer.certsProvider } });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const now = () => Math.floor(Date.now() / 1000);

describe('startupAuthCheck', () => {
  it('when neither a shared secret nor an OAuth client id is set, then start-up fails naming both settings', () => {
    expect(() => startupAuthCheck(testConfig())).toThrow(ConfigError);
    expect(() => startupAuthCheck(testConfig())).toThrow(/AUTH_SHARED_SECRET.*GOOGLE_OAUTH_CLIENT_IDS/s);
  });
  it('when either one is set, then start-up passes', () => {
    expect(() => startupAuthCheck(testConfig({ AUTH_SHARED_SECRET: secret }))).not.toThrow();
    expect(() => startupAuthCheck(testConfig({ GOOGLE_OAUTH_CLIENT_IDS: CLIENT_A }))).not.toThrow();
  });
  it('when the shared secret is short, then start-up fails', () => {
    expect(() => startupAuthCheck(testConfig({ AUTH_SHARED_SECRET: 'short' }))).toThrow(/16 characters/);
  });
});

describe('unauthenticated requests', () => {
  it('when a /v1 request carries no credentials, then it gets 401 with a message that says how to sign in', async () => {
    const res = await request(app).get('/v1/whoami');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unauthorized');
    expect(res.body.message).toMatch(/identity token|X-Shared-Secret/);
  });
  it('when an unknown /v1 path is asked without credentials, then it is 401, not 404 (no route probing)', async () => {
    expect((await request(app).get('/v1/nope')).status).toBe(401);
  });
  it('when /healthz is asked without credentials, then it answers', async () => {
    expect((await request(app).get('/healthz')).status).toBe(200);
  });
  it('when the app is built with no auth configured at all, then every /v1 request is refused (fail closed)', async () => {
    const bare = buildTestApp(testConfig());
    expect((await request(bare).get('/v1/whoami')).status).toBe(401);
    expect((await request(bare).get('/v1/whoami').set('X-Shared-Secret', '')).status).toBe(401);
    expect((await request(bare).get('/v1/whoami').set(bearer(issuer.token()))).status).toBe(401);
  });
});

describe('shared secret (single organisation)', () => {
  it('when the secret is right, then the caller is the organisation', async () => {
    const res = await request(app).get('/v1/whoami').set('X-Shared-Secret', secret);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: 'secret:organisation', via: 'secret', isAdmin: false });
  });
  it('when X-User-Id claims an admin or another user, then it is only a label: same identity, never an admin', async () => {
    // ADMIN_EMAILS lists these very words; a header value must still not make anyone an admin.
    for (const claim of ['ops', 'ops-admin', 'secret:ops-admin', 'admin@example.com']) {
      const res = await request(app).get('/v1/whoami').set('X-Shared-Secret', secret).set('X-User-Id', claim);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ subject: 'secret:organisation', via: 'secret', isAdmin: false, label: claim });
    }
    const user = await request(app).get('/v1/whoami').set('X-Shared-Secret', secret).set('X-User-Id', 'user-key_42');
    expect(user.body.subject).toBe('secret:organisation');
  });
  it('when the secret is wrong (same length or not), then 401 and the secret is not echoed', async () => {
    const wrong = secret.slice(0, -1) + (secret.endsWith('a') ? 'b' : 'a');
    for (const given of [wrong, secret + 'x', 'x']) {
      const res = await request(app).get('/v1/whoami').set('X-Shared-Secret', given);
      expect(res.status).toBe(401);
      expect(res.text).not.toContain(given);
    }
  });
  it('when X-User-Id holds odd characters, then 401', async () => {
    const res = await request(app).get('/v1/whoami').set('X-Shared-Secret', secret).set('X-User-Id', 'a b<script>');
    expect(res.status).toBe(401);
  });
  it('secretsEqual compares whole values', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abd')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
  });
});

describe('Google identity token', () => {
  it('when the token is valid, then the caller is google:<sub> with its email', async () => {
    const res = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ sub: '42', email: 'Ana@Example.com' })));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: 'google:42', email: 'ana@example.com', via: 'google', isAdmin: false });
  });
  it('when the audience is any configured client id, then it is accepted; the plain issuer form is accepted too', async () => {
    const res = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ aud: CLIENT_B, iss: 'accounts.google.com' })));
    expect(res.status).toBe(200);
  });
  it('when the email is in ADMIN_EMAILS, then the caller is an admin', async () => {
    const res = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ email: 'admin@example.com' })));
    expect(res.body.isAdmin).toBe(true);
  });
  it('when the audience is another client, then 401 "wrong audience"', async () => {
    const res = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ aud: 'someone-else.apps.googleusercontent.com' })));
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/wrong audience/);
  });
  it('when the token expired (beyond the library\'s clock skew), then 401 "expired"', async () => {
    const res = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ iat: now() - 7200, exp: now() - 3600 })));
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/expired/);
  });
  it('when the token is signed by another key (forged), then 401 "bad signature" and the token is not echoed', async () => {
    const forged = issuer.token({}, { signWith: issuer.otherKey });
    const res = await request(app).get('/v1/whoami').set(bearer(forged));
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/bad signature/);
    expect(res.text).not.toContain(forged.split('.')[1]);
  });
  it('when the payload is altered after signing, then 401', async () => {
    const [h, , s] = issuer.token().split('.');
    const evil = Buffer.from(
      JSON.stringify({
        iss: 'https://accounts.google.com',
        aud: CLIENT_A,
        sub: 'admin',
        email: 'admin@example.com',
        email_verified: true,
        iat: now(),
        exp: now() + 60,
      }),
    ).toString('base64url');
    expect(
      (
        await request(app)
          .get('/v1/whoami')
          .set(bearer(`${h}.${evil}.${s}`))
      ).status,
    ).toBe(401);
  });
  it('when the key id is unknown or the issuer is not Google, then 401', async () => {
    expect(
      (
        await request(app)
          .get('/v1/whoami')
          .set(bearer(issuer.token({}, { kid: 'nope' })))
      ).status,
    ).toBe(401);
    const res = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ iss: 'https://evil.example' })));
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/wrong issuer/);
  });
  it('when email_verified is not true, then 401', async () => {
    for (const email_verified of [false, 'true', undefined]) {
      const res = await request(app)
        .get('/v1/whoami')
        .set(bearer(issuer.token({ email_verified })));
      expect(res.status).toBe(401);
    }
  });
  it('when an @domain is allowed, then only accounts of that Workspace domain (hd claim) pass; a consumer account with such an address is refused', async () => {
    const workspace = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ email: 'ana@example.com', hd: 'example.com' })));
    expect(workspace.status).toBe(200);
    for (const claims of [
      { email: 'eve@example.com', hd: undefined },
      { email: 'eve@example.com', hd: 'evil.example' },
      { email: 'eve@example.com', hd: 'sub.example.com' },
    ]) {
      const consumer = await request(app)
        .get('/v1/whoami')
        .set(bearer(issuer.token(claims)));
      expect(consumer.status).toBe(403);
      expect(consumer.body.error).toBe('not_allowed');
      expect(consumer.body.message).toMatch(/Google Workspace/);
    }
    // Listed by full address, a consumer account passes.
    const listed = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ email: 'boss@other.org', hd: undefined })));
    expect(listed.status).toBe(200);
  });
  it('when the email is outside AUTH_ALLOWED, then 403 not_allowed; a listed email of another domain passes', async () => {
    const outsider = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ email: 'eve@evil.example' })));
    expect(outsider.status).toBe(403);
    expect(outsider.body.error).toBe('not_allowed');
    const boss = await request(app)
      .get('/v1/whoami')
      .set(bearer(issuer.token({ email: 'boss@other.org' })));
    expect(boss.status).toBe(200);
  });
  it('when the token is garbage or the header is not Bearer, then 401 (never 500)', async () => {
    for (const value of ['Bearer abc', 'Bearer a.b.c', 'Bearer ....', 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const res = await request(app).get('/v1/whoami').set('Authorization', value);
      expect(res.status).toBe(401);
    }
  });
});

describe('isEmailAllowed', () => {
  it('matches @domains exactly (no suffix tricks) and only with the matching hd claim, and emails case-insensitively', () => {
    expect(isEmailAllowed('a@example.com', ['@example.com'], 'example.com')).toBe(true);
    expect(isEmailAllowed('a@example.com', ['@Example.com'], 'EXAMPLE.com')).toBe(true);
    expect(isEmailAllowed('a@example.com', ['@example.com'], undefined)).toBe(false);
    expect(isEmailAllowed('a@example.com', ['@example.com'], 'other.org')).toBe(false);
    expect(isEmailAllowed('a@notexample.com', ['@example.com'], 'notexample.com')).toBe(false);
    expect(isEmailAllowed('a@sub.example.com', ['@example.com'], 'example.com')).toBe(false);
    expect(isEmailAllowed('A@X.org', ['a@x.org'], undefined)).toBe(true);
    expect(isEmailAllowed(undefined, ['@example.com'], 'example.com')).toBe(false);
    expect(isEmailAllowed(undefined, [], undefined)).toBe(true);
  });
});
