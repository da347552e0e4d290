/** The add-on's sharing routes, mounted on createApp with a stand-in identity middleware. */
import express from 'express';
import request from 'supertest';
import { createErrorHandler } from '../../src/http/error-handler';
import { silentLogger } from '../../src/logger';
import { setIdentity } from '../../src/http/identity';
import { createSheetsRouter } from '../../src/http/sheets-routes';
import { startSheetsKit, type SheetsKit } from '../sheets/sheets-test-kit';

describe('createSheetsRouter', () => {
  let kit: SheetsKit;
  beforeAll(async () => {
    kit = await startSheetsKit();
    kit.fake.loadCsv('ss-routes-0001', 'Posts', 'Key\n');
    kit.fake.loadCsv('ss-routes-0002', 'Posts', 'Key\n');
    kit.fake.shareWith('ss-routes-0002', ['nobody@example.com']);
  });
  afterAll(() => kit.fake.close());

  function app(signedIn: boolean) {
    const client = kit.client();
    // A stand-in for the auth middleware: the routes only rely on getIdentity(res).
    const a = express();
    a.use(express.json());
    a.use((_req, res, next) => {
      if (signedIn) setIdentity(res, { subject: 'u1', via: 'google', isAdmin: false });
      next();
    });
    a.use(createSheetsRouter({ sheetsFor: () => client, serviceAccountEmail: client.serviceAccountEmail }));
    a.use(createErrorHandler(silentLogger));
    return a;
  }

  it('tells a signed-in caller whom to share with, and refuses anonymous callers', async () => {
    expect((await request(app(true)).get('/v1/sheets/service-account')).body).toEqual({ email: kit.sa.email });
    expect((await request(app(false)).get('/v1/sheets/service-account')).status).toBe(401);
  });

  it('checks access per spreadsheet and validates the body', async () => {
    const a = app(true);
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
