/** The Sheets fake over plain HTTP: A1 ranges, Google's error shape, per-caller quota, token checks, formulas. */
import { generateKeyPairSync, createSign } from 'node:crypto';
import { parseFakeA1 } from '../../src/sandbox/sheets-fake-a1';
import { startSheetsFake, type SheetsFake } from '../../src/sandbox/sheets-fake';

function jwt(payload: object, privateKey: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${enc({ alg: 'RS256' })}.${enc(payload)}`;
  return `${data}.${createSign('RSA-SHA256').update(data).sign(privateKey).toString('base64url')}`;
}

describe('parseFakeA1', () => {
  it('reads cells, whole columns and rows, open ends and quoted names', () => {
    expect(parseFakeA1("'It''s Q3'!B2:D")).toEqual({
      sheet: "It's Q3",
      startRow: 1,
      startCol: 1,
      endRow: undefined,
      endCol: 3,
    });
    expect(parseFakeA1('Posts!C:C')).toEqual({
      sheet: 'Posts',
      startRow: 0,
      startCol: 2,
      endRow: undefined,
      endCol: 2,
    });
    expect(parseFakeA1('Posts!1:1')).toEqual({
      sheet: 'Posts',
      startRow: 0,
      startCol: 0,
      endRow: 0,
      endCol: undefined,
    });
    expect(parseFakeA1('AA10')).toEqual({ sheet: undefined, startRow: 9, startCol: 26, endRow: 9, endCol: 26 });
    expect(parseFakeA1('Posts')).toEqual({ sheet: 'Posts', startRow: 0, startCol: 0 });
    expect(() => parseFakeA1('Posts!$$')).toThrow(/Unable to parse range/);
  });
});

describe('startSheetsFake', () => {
  let fake: SheetsFake;
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const priv = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pub = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  beforeEach(async () => {
    fake = await startSheetsFake({ quotaPerMinute: 3, windowMs: 60_000, serviceAccountPublicKey: pub });
    fake.loadCsv('ss-fake-1', 'Posts', 'Key,Status\nk1,\nk2,x\n');
  });
  afterEach(() => fake.close());

  async function token(privateKey = priv): Promise<Response> {
    const assertion = jwt(
      { iss: 'sa@example.iam.gserviceaccount.com', scope: 's', aud: 'https://oauth2.googleapis.com/token' },
      privateKey,
    );
    return fetch(`${fake.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
    });
  }

  it('issues a token only for an assertion signed by the configured key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect((await token(other)).status).toBe(400);
    const ok = await token();
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  });

  it("answers 401, 404 and a per-caller 429 in Google's error shape", async () => {
    const get = (auth?: string, id = 'ss-fake-1') =>
      fetch(`${fake.url}/v4/spreadsheets/${id}/values:batchGet?ranges=Posts!A:A`, {
        headers: auth ? { authorization: auth } : {},
      });
    expect((await get()).status).toBe(401);
    const t = `Bearer ${((await (await token()).json()) as { access_token: string }).access_token}`;
    const nf = await get(t, 'missing');
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({
      error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' },
    });
    const ok = await get(t);
    expect(await ok.json()).toMatchObject({ valueRanges: [{ values: [['Key'], ['k1'], ['k2']] }] });
    await get(t);
    const limited = await get(t);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { status: string } }).error.status).toBe('RESOURCE_EXHAUSTED');
    // another caller has its own quota
    const u = `Bearer ${fake.issueUserToken('someone@example.com')}`;
    expect((await get(u)).status).toBe(200);
  });

  it('stores RAW text as typed, never evaluates USER_ENTERED formulas, and applies row mutations', async () => {
    const auth = {
      authorization: `Bearer ${fake.issueUserToken('me@example.com')}`,
      'content-type': 'application/json',
    };
    const write = (opt: string, v: string) =>
      fetch(`${fake.url}/v4/spreadsheets/ss-fake-1/values:batchUpdate`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ valueInputOption: opt, data: [{ range: 'Posts!B2', values: [[v]] }] }),
      });
    expect((await write('RAW', '=1+1')).status).toBe(200);
    expect(fake.formulaCells('ss-fake-1', 'Posts')).toEqual([]);
    await write('USER_ENTERED', '=1+1');
    expect(fake.formulaCells('ss-fake-1', 'Posts')).toEqual(['B2']);
    fake.mutate('ss-fake-1', 'Posts').sortBy('Key', true);
    fake.mutate('ss-fake-1', 'Posts').insertRowAt(2, ['k0']);
    expect(fake.getValues('ss-fake-1', 'Posts').map((r) => r[0])).toEqual(['Key', 'k0', 'k2', 'k1']);
    fake.mutate('ss-fake-1', 'Posts').deleteRow(3);
    fake.mutate('ss-fake-1', 'Posts').moveRow(3, 2);
    expect(fake.getValues('ss-fake-1', 'Posts').map((r) => r[0])).toEqual(['Key', 'k1', 'k0']);
  });
});
