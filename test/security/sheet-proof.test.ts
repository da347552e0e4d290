/**
 * Proof of access to a spreadsheet, over real HTTP with the Sheets fake: a caller must prove they can edit a
 * spreadsheet (a challenge written as developer metadata, read back by the service account) before the service
 * plans, writes into or reports on it. A view-only user and a user who only knows the spreadsheet id get the same
 * answers as for a spreadsheet that does not exist, and the sheet stays untouched.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { startSheetsFake, type SheetsFake } from '../../src/sandbox/sheets-fake';
import { buildService, type Service } from '../../src/service';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import type { RunAccepted, RunStatusResponse } from '../../appsscript/shared/contract';
import { createFakeGoogleIssuer } from '../http/google-token-fixtures';
import { makeFakeServiceAccount, withTokenUri } from '../sheets/fake-service-account';
import {
  fetchSender,
  proveSheetAccess,
  requestChallenge,
  writeMetadataAs,
  type ServiceSender,
} from '../fakes/sheet-proof-helper';

const CLIENT_ID = 'sheet-proof.apps.googleusercontent.com';
const WORKSPACE = 'wks_proof';
const MAIN = 'ss_proof_main_0001';
const OTHER = 'ss_proof_other_0002';
const NOWHERE = 'ss_proof_nowhere_0003';
const CHALLENGE_SECONDS = 60;
const BINDING_HOURS = 1;

interface Caller {
  email: string;
  headers: Record<string, string>;
  send: ServiceSender;
}

describe('proof of access to a spreadsheet', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postato-proof-'));
  const issuer = createFakeGoogleIssuer(CLIENT_ID);
  const sa = makeFakeServiceAccount();
  // The service's clock runs ahead by `skew` so a test can let challenges and bindings expire.
  let skew = 0;
  const clock = { now: () => Date.now() + skew };
  let sandbox: PostatoSandbox;
  let sheets: SheetsFake;
  let service: Service;
  let server: Server;
  let base: string;
  const callers: Record<'alice' | 'vera' | 'sam', Caller> = {} as never;

  const rows = [
    ['p1', 'twitter', 'acc_1', 'tweet', 'Proof launch one', '', '', '', '', ''],
    ['p2', 'twitter', 'acc_1', 'tweet', '', '', '', '', '', ''],
  ];
  const header = [...INPUT_COLUMNS, ...OUTPUT_COLUMNS];
  const csv = (cells: string[][]) => cells.map((r) => r.join(',')).join('\n') + '\n';
  const runBody = (mode: string, spreadsheetId = MAIN) => ({
    mode,
    spreadsheetId,
    sheetName: 'Posts',
    sheetId: 0,
    spreadsheetTimeZone: 'America/New_York',
    workspaceId: WORKSPACE,
    header,
    rows: rows.map((values, i) => ({ rowNumber: i + 2, values })),
  });

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({
      tickIntervalMs: 0,
      settings: {
        accounts: [
          { id: 'acc_1', workspaceId: WORKSPACE, platform: 'twitter', username: 'brand', status: 'connected' },
        ],
      },
    });
    sheets = await startSheetsFake({ serviceAccountPublicKey: sa.publicKeyPem });
    for (const id of [MAIN, OTHER]) {
      sheets.loadCsv(id, 'Posts', csv([header.slice(0, INPUT_COLUMNS.length), ...rows]));
      sheets.shareWith(id, [sa.email, 'alice@agency.example']);
    }
    sheets.shareViewOnly(MAIN, ['vera@agency.example']);
    const config = loadConfig({
      NODE_ENV: 'test',
      GOOGLE_OAUTH_CLIENT_IDS: CLIENT_ID,
      POSTATO_API_URL: sandbox.url,
      DATABASE_URL: `sqlite:${path.join(dir, 'ledger.db')}`,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SHEETS_API_URL: sheets.url,
      GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(withTokenUri(sa, sheets.tokenUrl)),
      WRITEBACK_FLUSH_MS: '100',
      DISPATCH_POLL_MS: '20',
      REQUESTS_PER_MINUTE: '100000',
      SHEET_PROOF_CHALLENGE_SECONDS: String(CHALLENGE_SECONDS),
      SHEET_PROOF_TTL_HOURS: String(BINDING_HOURS),
    });
    service = await buildService(config, {
      clock,
      logger: silentLogger,
      app: { auth: { certsProvider: issuer.certsProvider } },
    });
    server = service.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const name of ['alice', 'vera', 'sam'] as const) {
      const email = `${name}@agency.example`;
      const headers = {
        authorization: `Bearer ${issuer.token({ sub: `${name}-sub`, email })}`,
        'x-postato-api-key': 'smcp_' + randomBytes(32).toString('hex'),
      };
      callers[name] = { email, headers, send: fetchSender(base, headers) };
    }
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await service?.close();
    await sheets?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (who: Caller, route: string) => {
    const res = await fetch(base + route, { headers: who.headers });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const post = (who: Caller, route: string, body: unknown) => who.send(route, body);
  const errorOf = (r: { body: unknown }) => (r.body as { error?: string }).error;

  async function finished(who: Caller, runId: string): Promise<RunStatusResponse> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await get(who, `/v1/runs/${runId}`);
      expect(res.status).toBe(200);
      const s = res.body as RunStatusResponse;
      if (s.state !== 'queued' && s.state !== 'running') return s;
      if (Date.now() > deadline) throw new Error(`run ${runId} did not end`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** What an unproven caller gets from every route that touches a spreadsheet. */
  async function unprovenAnswers(who: Caller, spreadsheetId: string) {
    const out = [];
    for (const mode of ['dry-run', 'publish', 'reschedule', 'unschedule']) {
      out.push(await post(who, '/v1/runs', runBody(mode, spreadsheetId)));
    }
    out.push(await post(who, '/v1/sheets/check-access', { spreadsheetId }));
    out.push(await post(who, '/v1/statuses/refresh', { spreadsheetId, workspaceId: WORKSPACE }));
    const c = await requestChallenge(who.send, spreadsheetId);
    // Whatever the caller can write with their own rights, the proof fails the same way.
    await writeMetadataAs(sheets, who.email, spreadsheetId, c.metadataKey, c.challenge);
    out.push(await post(who, '/v1/sheets/proof/verify', { spreadsheetId, challenge: c.challenge }));
    return out;
  }

  let aliceRun = '';

  it('a caller who has not proved anything is refused with proof_required, then an editor proves and everything works', async () => {
    const alice = callers.alice;
    const refused = await post(alice, '/v1/runs', runBody('dry-run'));
    expect(refused.status).toBe(403);
    expect(errorOf(refused)).toBe('proof_required');
    expect(errorOf(await post(alice, '/v1/sheets/check-access', { spreadsheetId: MAIN }))).toBe('proof_required');

    await proveSheetAccess(alice.send, sheets, MAIN, alice.email);

    const dry = await post(alice, '/v1/runs', runBody('dry-run'));
    expect(dry.status).toBe(200);
    await service.dryRunVerdicts!.idle();
    // The dry run wrote its verdicts into the proven sheet: p2 has no content.
    const cells = sheets.getValues(MAIN, 'Posts');
    expect(cells[0]).toContain('Status');
    expect(cells[2]![cells[0]!.indexOf('Status')]).toBe('INVALID');

    const accepted = await post(alice, '/v1/runs', runBody('publish'));
    expect(accepted.status).toBe(202);
    aliceRun = (accepted.body as RunAccepted).runId;
    const done = await finished(alice, aliceRun);
    expect(done.counts).toMatchObject({ created: 1 });
    expect((await get(alice, `/v1/runs/${aliceRun}/report`)).status).toBe(200);
    expect(await post(alice, '/v1/sheets/check-access', { spreadsheetId: MAIN })).toEqual({
      status: 200,
      body: { canEdit: true },
    });
    // The helper leaves its metadata in place (the add-on removes it); the service used the challenge up.
    expect(sheets.developerMetadata(MAIN)).toHaveLength(1);
  });

  it('a view-only user and a user who only knows the id get the answers a missing spreadsheet gets, and the sheet stays as it was', async () => {
    const { vera, sam } = callers;
    await service.flusher!.drain(); // Alice's results are in the sheet before the snapshot
    const before = JSON.stringify(sheets.getValues(MAIN, 'Posts'));
    const createdBefore = sandbox.inspect().posts.length;
    // Vera may view the sheet, so the fake lets her read it but refuses her metadata write.
    const c = await requestChallenge(vera.send, MAIN);
    expect(await writeMetadataAs(sheets, vera.email, MAIN, c.metadataKey, c.challenge)).toBe(403);

    const asVera = await unprovenAnswers(vera, MAIN);
    const asSam = await unprovenAnswers(sam, MAIN);
    const missing = await unprovenAnswers(sam, NOWHERE);
    expect(asVera).toEqual(asSam);
    expect(asSam).toEqual(missing);
    expect(asVera.slice(0, 6).map(errorOf)).toEqual(Array(6).fill('proof_required'));
    expect(errorOf(asVera[6]!)).toBe('proof_failed');
    expect(asVera.every((r) => r.status === 403)).toBe(true);

    // Alice's run and its report are a 404 to them, the same as a run that does not exist.
    for (const who of [vera, sam]) {
      const status = await get(who, `/v1/runs/${aliceRun}`);
      const report = await get(who, `/v1/runs/${aliceRun}/report`);
      const none = await get(who, `/v1/runs/run_doesnotexist`);
      expect(status).toEqual(none);
      expect(report.status).toBe(404);
    }
    await service.dryRunVerdicts!.idle();
    await service.flusher!.drain();
    expect(JSON.stringify(sheets.getValues(MAIN, 'Posts'))).toBe(before);
    expect(sandbox.inspect().posts.length).toBe(createdBefore);
  });

  it('a challenge proves only for the caller and the spreadsheet it was handed out for, and only once', async () => {
    const { alice, vera } = callers;
    // Vera can read the sheet's metadata, so she may see Alice's challenge; it does not prove anything for her.
    const c = await requestChallenge(alice.send, MAIN);
    expect(await writeMetadataAs(sheets, alice.email, MAIN, c.metadataKey, c.challenge)).toBe(200);
    const stolen = await post(vera, '/v1/sheets/proof/verify', { spreadsheetId: MAIN, challenge: c.challenge });
    expect(stolen.status).toBe(403);
    expect(errorOf(await post(vera, '/v1/runs', runBody('dry-run')))).toBe('proof_required');
    // Her attempt did not use it up for Alice; once used, it does not prove again.
    expect((await post(alice, '/v1/sheets/proof/verify', { spreadsheetId: MAIN, challenge: c.challenge })).status).toBe(
      200,
    );
    expect((await post(alice, '/v1/sheets/proof/verify', { spreadsheetId: MAIN, challenge: c.challenge })).status).toBe(
      403,
    );

    // A challenge for OTHER written into MAIN (which Alice edits) proves neither spreadsheet.
    const other = await requestChallenge(alice.send, OTHER);
    await writeMetadataAs(sheets, alice.email, MAIN, other.metadataKey, other.challenge);
    for (const spreadsheetId of [MAIN, OTHER]) {
      const r = await post(alice, '/v1/sheets/proof/verify', { spreadsheetId, challenge: other.challenge });
      expect(r.status).toBe(403);
      expect(errorOf(r)).toBe('proof_failed');
    }
    expect(errorOf(await post(alice, '/v1/runs', runBody('dry-run', OTHER)))).toBe('proof_required');
  });

  it('an expired challenge proves nothing, and an expired binding must be proved again, even for the run owner', async () => {
    const alice = callers.alice;
    const c = await requestChallenge(alice.send, OTHER);
    await writeMetadataAs(sheets, alice.email, OTHER, c.metadataKey, c.challenge);
    skew += (CHALLENGE_SECONDS + 1) * 1000;
    const late = await post(alice, '/v1/sheets/proof/verify', { spreadsheetId: OTHER, challenge: c.challenge });
    expect(late.status).toBe(403);
    expect(errorOf(late)).toBe('proof_failed');

    skew += BINDING_HOURS * 3_600_000;
    expect(errorOf(await post(alice, '/v1/runs', runBody('dry-run')))).toBe('proof_required');
    const status = await get(alice, `/v1/runs/${aliceRun}`);
    expect(status.status).toBe(403);
    expect(errorOf(status)).toBe('proof_required');
    expect(errorOf(await get(alice, `/v1/runs/${aliceRun}/report`))).toBe('proof_required');

    await proveSheetAccess(alice.send, sheets, MAIN, alice.email);
    expect((await get(alice, `/v1/runs/${aliceRun}`)).status).toBe(200);
  });

  it('a CSV campaign has no spreadsheet, so it needs no proof', async () => {
    const r = await post(callers.sam, '/v1/runs', runBody('dry-run', 'csv:0123456789abcdef0123456789abcdef'));
    expect(r.status).toBe(200);
  });
});
