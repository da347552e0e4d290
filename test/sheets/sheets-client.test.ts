/** The Sheets client with the real googleapis library against the fake: metadata, reads, RAW writes, errors, tokens. */
import { AppError } from '../../src/errors';
import { createSheetsClient } from '../../src/sheets/sheets-client';
import { parseServiceAccountKey } from '../../src/sheets/sheets-credentials';
import { writeDryRunVerdicts } from '../../src/sheets/dry-run-write';
import { withTokenUri } from './fake-service-account';
import { startSheetsKit, type SheetsKit } from './sheets-test-kit';

describe('createSheetsClient', () => {
  let kit: SheetsKit;
  beforeEach(async () => {
    kit = await startSheetsKit();
    kit.fake.loadCsv('ss-client-1', "Q3 'launch'", 'Content,key,Status\nhello,a1,\nbye,a2,\n', {
      timeZone: 'Europe/Lisbon',
    });
  });
  afterEach(() => kit.fake.close());

  it('reads the time zone and the sheets through a signed service-account token', async () => {
    const md = await kit.client().getMetadata('ss-client-1');
    expect(md).toEqual({ timeZone: 'Europe/Lisbon', sheets: [{ sheetId: expect.any(Number), title: "Q3 'launch'" }] });
    expect(kit.fake.requestLog.find((r) => r.kind === 'read')!.caller).toBe(kit.sa.email);
  });

  it('finds the Key column by name, case-insensitively, and reads header and keys in one batchGet once the layout is known', async () => {
    const c = kit.client();
    const first = await c.readHeaderAndKeys('ss-client-1', "Q3 'launch'");
    expect(first).toMatchObject({ header: ['Content', 'key', 'Status'], keyColumn: 1, keys: ['key', 'a1', 'a2'] });
    const reads = kit.fake.stats().reads;
    await c.readHeaderAndKeys('ss-client-1', "Q3 'launch'");
    expect(kit.fake.stats().reads - reads).toBe(1);
  });

  it('says to add a Key column when the header has none', async () => {
    kit.fake.loadCsv('ss-client-2', 'Posts', 'Content,Status\nx,\n');
    await expect(kit.client().readHeaderAndKeys('ss-client-2', 'Posts')).rejects.toMatchObject({
      code: 'sheets_key_column_missing',
    });
  });

  it('answers 403 with the account to share with, 404 for an unknown spreadsheet, and leaks no token', async () => {
    kit.fake.shareWith('ss-client-1', ['other@example.com']);
    const c = kit.client();
    const err = await c.getMetadata('ss-client-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toBe(`Share the sheet with ${kit.sa.email} as an editor, then try again.`);
    expect(JSON.stringify(err) + String((err as Error).stack)).not.toMatch(/ya29|PRIVATE KEY/);
    expect(await c.checkAccess('ss-client-1')).toEqual({ canEdit: false, message: (err as AppError).message });
    await expect(c.getMetadata('nope-nope-nope')).rejects.toMatchObject({ code: 'sheets_not_found' });
  });

  it('retries 429 and 5xx on writes until they succeed', async () => {
    kit.fake.update({ faults: { share429: 0.35, share5xx: 0.35, seed: 9 } });
    const c = kit.client();
    for (let i = 0; i < 5; i++)
      await c.batchWrite('ss-client-1', [{ range: `'Q3 ''launch'''!C2`, values: [[`v${i}`]] }]);
    expect(kit.fake.getValues('ss-client-1', "Q3 'launch'")[1]![2]).toBe('v4');
    expect(kit.fake.stats().rejected429 + kit.fake.stats().rejected5xx).toBeGreaterThan(0);
  });

  it("uses the user's forwarded token until it is refused, then the service account", async () => {
    const userToken = kit.fake.issueUserToken('manager@example.com');
    const c = kit.client({
      credentials: { userAccessToken: userToken, serviceAccount: withTokenUri(kit.sa, kit.fake.tokenUrl) },
    });
    await c.getMetadata('ss-client-1');
    kit.fake.revokeToken(userToken);
    await c.getMetadata('ss-client-1');
    const callers = kit.fake.requestLog.filter((r) => r.kind === 'read').map((r) => [r.caller, r.status]);
    expect(callers).toEqual([
      ['manager@example.com', 200],
      ['anonymous', 401],
      [kit.sa.email, 200],
    ]);
  });

  it('rejects a service-account JSON that is not one, without echoing it', () => {
    expect(() => parseServiceAccountKey('{"private_key":"secret-stuff"}')).toThrow(/has no client_email/);
    expect(() => parseServiceAccountKey('not json secret-stuff')).toThrow(
      /^GOOGLE_SERVICE_ACCOUNT_JSON is not valid JSON/,
    );
    expect(() => createSheetsClient({ credentials: {} })).toThrow(/GOOGLE_SERVICE_ACCOUNT_JSON/);
  });

  it('writes dry-run verdicts in one batch, as text, and reports keys it could not find', async () => {
    const c = kit.client();
    const r = await writeDryRunVerdicts(c, 'ss-client-1', "Q3 'launch'", [
      { key: 'a2', status: 'INVALID', error: '=Content is empty' },
      { key: 'a1', status: 'READY', error: '' },
      { key: 'zz', status: 'READY', error: '' },
    ]);
    expect(r).toEqual({ written: 2, missingKeys: ['zz'], duplicateKeys: [] });
    expect(kit.fake.getValues('ss-client-1', "Q3 'launch'")).toEqual([
      ['Content', 'key', 'Status', 'Error'],
      ['hello', 'a1', 'READY'],
      ['bye', 'a2', 'INVALID', '=Content is empty'],
    ]);
    expect(kit.fake.formulaCells('ss-client-1', "Q3 'launch'")).toEqual([]);
    expect(kit.fake.stats().writes).toBe(1);
  });
});
