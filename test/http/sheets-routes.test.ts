/** The add-on's sharing routes, mounted on createApp with a stand-in identity middleware. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { systemClock } from '../../src/clock';
import { openLedger, type OpenedLedger } from '../../src/ledger/open-ledger';
import { createSheetProof } from '../../src/runs/sheet-proof';
import { proveSheetAccess, type ServiceSender } from '../fakes/sheet-proof-helper';
import { createErrorHandler } from '../../src/http/error-handler';
import { silentLogger } from '../../src/logger';
import { setIdentity } from '../../src/http/identity';
import { createSheetsRouter } from '../../src/http/sheets-routes';
import { startSheetsKit, type SheetsKit } from '../sheets/sheets-test-kit';

describe('createSheetsRouter', () => {
  let kit: SheetsKit;
  let opened: OpenedLedger;
  const dir = mkdtempSync(path.join(tmpdir(), 'sheets-routes-'));
  beforeAll(async () => {
    kit = await startSheetsKit();
    kit.fake.loadCsv('ss-routes-0001', 'Posts', 'Key\n');
    kit.fake.loadCsv('ss-routes-0002', 'Posts', 'Key\n');
    opened = await openLedger(`sqlite:${path.join(dir, 'ledger.db')}`, systemClock);
  });
  afterAll(async () => {
    await kit.fake.close();
    await opened.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function app(signedIn: boolean) {
    const client = kit.client();
    // A stand-in for the auth middleware: the routes only rely on getIdentity(res).
    const a = express();
    a.use(express.json());
    a.use((_req, res, next) => {
      if (signedIn) setIdentity(res, { subject: 'u1', via: 'google', isAdmin: false });
      next();
    });
    const proof = createSheetProof({
      store: opened.ledger.sheetProofs,
      sheets: client,
      clock: systemClock,
      logger: silentLogger,
      bindingTtlMs: 60_000,
      challengeTtlMs: 60_000,
    });
    a.use(createSheetsRouter({ sheetsFor: () => client, serviceAccountEmail: client.serviceAccountEmail, proof }));
    a.use(createErrorHandler(silentLogger));
    return a;
  }
  const sender =
    (a: express.Express): ServiceSender =>
    async (route, body) => {
      const res = await request(a)
        .post(route)
        .send(body as object);
      return { status: res.status, body: res.body as unknown };
    };

  it('tells a signed-in caller whom to share with, and refuses anonymous callers', async () => {
    expect((await request(app(true)).get('/v1/sheets/service-account')).body).toEqual({ email: kit.sa.email });
    expect((await request(app(false)).get('/v1/sheets/service-account')).status).toBe(401);
  });

  it('checks access per spreadsheet for a caller who proved they edit it, and validates the body', async () => {
    const a = app(true);
    const unproven = await request(a).post('/v1/sheets/check-access').send({ spreadsheetId: 'ss-routes-0001' });
    expect(unproven.status).toBe(403);
    expect(unproven.body.error).toBe('proof_required');
    await proveSheetAccess(sender(a), kit.fake, 'ss-routes-0001');
    await proveSheetAccess(sender(a), kit.fake, 'ss-routes-0002');
    // The service account loses access after the proof: check-access says whom to share with.
    kit.fake.shareWith('ss-routes-0002', ['nobody@example.com']);
    expect((await request(a).post('/v1/sheets/check-access').send({ spreadsheetId: 'ss-routes-0001' })).body).toEqual({
      canEdit: true,
    });
    const denied = await request(a).post('/v1/sheets/check-access').send({ spreadsheetId: 'ss-routes-0002' });
    expect(denied.body).toEqual({
      canEdit: false,
      message: `Share the sheet with ${kit.sa.email} as an editor, then try again.`,
    });
    const bad = await request(a).post('/v1/sheets/check-access').send({ spreadsheetId: 'x/../y' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_request');
  });
});
