/**
 * Tenant isolation over real HTTP: two users, each with their own Postato API key (two tenants of the sandbox), name
 * the same spreadsheet id, workspace id and row keys. Neither may read, block or mix with the other's campaign
 * through the ledger, and a webhook signed with one workspace's secret never touches another workspace's rows.
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
import { buildService, type Service } from '../../src/service';
import { webhookSignatureHeader } from '../../src/webhooks/webhook-signature';
import { INPUT_COLUMNS, OUTPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import type { DryRunResponse, RunAccepted, RunStatusResponse } from '../../appsscript/shared/contract';
import { createFakeGoogleIssuer } from '../http/google-token-fixtures';

const CLIENT_ID = 'tenant-isolation.apps.googleusercontent.com';
const WORKSPACE = 'wks_shared';
const WORKSPACE_B = 'wks_b_own';
const HEADER = [...INPUT_COLUMNS, ...OUTPUT_COLUMNS];

interface Caller {
  name: string;
  token: string;
  apiKey: string;
}

describe('two tenants naming the same spreadsheet, workspace and row keys', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'postato-tenants-'));
  const issuer = createFakeGoogleIssuer(CLIENT_ID);
  let sandbox: PostatoSandbox;
  let service: Service;
  let server: Server;
  let base: string;
  const alice: Caller = {
    name: 'alice',
    token: issuer.token({ sub: 'alice-sub', email: 'alice@agency-a.example' }),
    apiKey: 'smcp_' + randomBytes(32).toString('hex'),
  };
  const bob: Caller = {
    name: 'bob',
    token: issuer.token({ sub: 'bob-sub', email: 'bob@agency-b.example' }),
    apiKey: 'smcp_' + randomBytes(32).toString('hex'),
  };

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({
      tickIntervalMs: 0,
      settings: {
        accounts: [WORKSPACE, WORKSPACE_B].map((workspaceId) => ({
          id: 'acc_1',
          workspaceId,
          platform: 'twitter',
          username: 'brand',
          status: 'connected' as const,
        })),
      },
    });
    const config = loadConfig({
      NODE_ENV: 'test',
      GOOGLE_OAUTH_CLIENT_IDS: CLIENT_ID,
      POSTATO_API_URL: sandbox.url,
      DATABASE_URL: `sqlite:${path.join(dir, 'ledger.db')}`,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DISPATCH_POLL_MS: '20',
      POSTATO_TIMEOUT_MS: '3000',
      DISPATCH_LEASE_MS: '10000',
      // One try: an answer Postato drops leaves the attempt in doubt and the row FAILED, as after a crash.
      POSTATO_MAX_ATTEMPTS: '1',
      REQUESTS_PER_MINUTE: '100000',
    });
    service = await buildService(config, {
      logger: silentLogger,
      backoffBaseMs: 20,
      app: { auth: { certsProvider: issuer.certsProvider } },
    });
    server = service.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await service?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async <T>(who: Caller, method: 'GET' | 'POST', route: string, body?: unknown) => {
    const res = await fetch(base + route, {
      method,
      headers: {
        authorization: `Bearer ${who.token}`,
        'x-postato-api-key': who.apiKey,
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  const sheet = (
    mode: string,
    spreadsheetId: string,
    rows: Array<[key: string, text: string]>,
    workspaceId = WORKSPACE,
  ) => ({
    mode,
    spreadsheetId,
    sheetName: 'Posts',
    sheetId: 0,
    spreadsheetTimeZone: 'America/New_York',
    workspaceId,
    header: HEADER,
    rows: rows.map(([key, text], i) => ({
      rowNumber: i + 2,
      values: [key, 'twitter', 'acc_1', 'tweet', text, '', '', '', '', ''],
    })),
  });

  async function finished(who: Caller, runId: string): Promise<RunStatusResponse> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await call<RunStatusResponse>(who, 'GET', `/v1/runs/${runId}`);
      expect(res.status).toBe(200);
      if (res.body.state !== 'queued' && res.body.state !== 'running') return res.body;
      if (Date.now() > deadline) throw new Error(`run ${runId} did not end`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function publish(who: Caller, request: ReturnType<typeof sheet>): Promise<RunStatusResponse> {
    const accepted = await call<RunAccepted>(who, 'POST', '/v1/runs', request);
    expect(accepted.status).toBe(202);
    return finished(who, accepted.body.runId);
  }

  const postsOf = (tenantOfFirstPost: string) =>
    sandbox.inspect().posts.filter((p) => p.tenantId === tenantOfFirstPost);
  const tenantOf = (postId: string) => sandbox.inspect().posts.find((p) => p.id === postId)!.tenantId;

  it("reading: a dry run naming another tenant's spreadsheet and keys shows none of its posts and marks nothing CHANGED", async () => {
    const rows: Array<[string, string]> = [
      ['r1', 'Alice launch one'],
      ['r2', 'Alice launch two'],
    ];
    const done = await publish(alice, sheet('publish', 'ss_read', rows));
    expect(done.counts).toMatchObject({ total: 2, created: 2 });
    const alicePosts = done.results.map((r) => r.postId!);
    const aliceTimes = done.results.map((r) => r.scheduledAtUtc!);
    expect(alicePosts.every((p) => /^pst_/.test(p))).toBe(true);

    for (const texts of [rows, rows.map(([k, t]): [string, string] => [k, `${t}, edited by bob`])]) {
      const dry = await call<DryRunResponse>(bob, 'POST', '/v1/runs', sheet('dry-run', 'ss_read', texts));
      expect(dry.status).toBe(200);
      const text = JSON.stringify(dry.body);
      for (const id of alicePosts) expect(text).not.toContain(id);
      for (const at of aliceTimes) expect(dry.body.rows.map((r) => r.plannedAt)).not.toContain(at);
      expect(dry.body.rows.filter((r) => r.changed)).toEqual([]);
      expect(dry.body.rows.map((r) => r.timeSource)).not.toContain('existing');
    }
    // Alice's own dry run still knows her posts.
    const own = await call<DryRunResponse>(alice, 'POST', '/v1/runs', sheet('dry-run', 'ss_read', rows));
    expect(own.body.rows.map((r) => r.postId).sort()).toEqual([...alicePosts].sort());
  });

  it("blocking: another tenant's publish of the same keys neither fills this tenant's known posts nor locks its publish", async () => {
    const rows: Array<[string, string]> = [
      ['b1', 'Alice block one'],
      ['b2', 'Alice block two'],
    ];
    // Bob publishes Alice's not-yet-published rows first.
    const bobRun = await publish(bob, sheet('publish', 'ss_block', rows));
    expect(bobRun.counts).toMatchObject({ total: 2, created: 2 });
    const bobPosts = bobRun.results.map((r) => r.postId!);

    // Alice's dry run still has both rows to send, with none of Bob's post ids.
    const dry = await call<DryRunResponse>(alice, 'POST', '/v1/runs', sheet('dry-run', 'ss_block', rows));
    expect(dry.body.rows.map((r) => r.postId)).toEqual([undefined, undefined]);
    expect(dry.body.summary).toMatchObject({ toSend: 2, alreadyPosted: 0 });

    // While Bob's run of the same spreadsheet id is active, Alice's publish is a run of her own, not a 409.
    sandbox.update({ faults: { latencyMs: 1500 } });
    const bobAgain = await call<RunAccepted>(
      bob,
      'POST',
      '/v1/runs',
      sheet('publish', 'ss_block', [['b3', 'Bob three']]),
    );
    expect(bobAgain.status).toBe(202);
    expect((await call<RunStatusResponse>(bob, 'GET', `/v1/runs/${bobAgain.body.runId}`)).body.state).toBe('running');
    const aliceRun = await call<RunAccepted>(alice, 'POST', '/v1/runs', sheet('publish', 'ss_block', rows));
    expect(aliceRun.status).toBe(202);
    expect(aliceRun.body.joined).toBe(false);
    expect(aliceRun.body.runId).not.toBe(bobAgain.body.runId);
    sandbox.update({ faults: { latencyMs: 0 } });
    const aliceDone = await finished(alice, aliceRun.body.runId);
    await finished(bob, bobAgain.body.runId);

    expect(aliceDone.counts).toMatchObject({ total: 2, created: 2 });
    const alicePosts = aliceDone.results.map((r) => r.postId!);
    for (const id of alicePosts) expect(bobPosts).not.toContain(id);
    // Each tenant holds its own posts at Postato, with its own content.
    const aliceTenant = tenantOf(alicePosts[0]!);
    expect(tenantOf(bobPosts[0]!)).not.toBe(aliceTenant);
    expect(alicePosts.every((id) => tenantOf(id) === aliceTenant)).toBe(true);
  });

  it("mixing: this tenant's in-doubt attempts are never replayed under another tenant's key", async () => {
    const aliceRows: Array<[string, string]> = [
      ['m1', 'Alice secret one'],
      ['m2', 'Alice secret two'],
    ];
    // Postato stores Alice's posts but her answers are lost: both attempts stay in doubt.
    sandbox.update({ faults: { dropAfterStoreShare: 1 } });
    const lost = await publish(alice, sheet('publish', 'ss_mix', aliceRows));
    sandbox.update({ faults: { dropAfterStoreShare: 0 } });
    expect(lost.counts).toMatchObject({ total: 2, failed: 2 });
    const aliceTenant = sandbox
      .inspect()
      .posts.find((p) => JSON.stringify(p.content).includes('Alice secret one'))!.tenantId;
    const aliceKeys = postsOf(aliceTenant)
      .filter((p) => JSON.stringify(p.content).includes('Alice secret'))
      .map((p) => p.idempotencyKey);
    expect(aliceKeys).toHaveLength(2);

    const bobDone = await publish(
      bob,
      sheet('publish', 'ss_mix', [
        ['m1', 'Bob own one'],
        ['m2', 'Bob own two'],
      ]),
    );
    expect(bobDone.counts).toMatchObject({ total: 2, created: 2 });
    const bobTenant = tenantOf(bobDone.results[0]!.postId!);
    expect(bobTenant).not.toBe(aliceTenant);
    const bobPosts = postsOf(bobTenant).filter((p) => bobDone.results.some((r) => r.postId === p.id));
    expect(bobPosts.map((p) => JSON.stringify(p.content)).join(' ')).not.toContain('Alice secret');
    expect(bobPosts.map((p) => JSON.stringify(p.content)).join(' ')).toContain('Bob own one');
    for (const p of bobPosts) expect(aliceKeys).not.toContain(p.idempotencyKey);

    // Alice's next publish resolves her own doubt by replaying her attempts: still one post per row at her tenant.
    const resolved = await publish(alice, sheet('publish', 'ss_mix', aliceRows));
    expect(resolved.counts).toMatchObject({ total: 2, created: 2 });
    expect(
      postsOf(aliceTenant)
        .filter((p) => JSON.stringify(p.content).includes('Alice secret'))
        .map((p) => p.id)
        .sort(),
    ).toEqual(resolved.results.map((r) => r.postId).sort());
  });

  it("webhooks: an event signed with one workspace's secret does not touch another workspace's rows", async () => {
    const secrets = service.ledger.webhookSecrets();
    const aliceSecret = 'whsec_alice_' + randomBytes(12).toString('hex');
    const bobSecret = 'whsec_bob_' + randomBytes(12).toString('hex');
    await secrets.saveSecret(WORKSPACE, aliceSecret);
    await secrets.saveSecret(WORKSPACE_B, bobSecret);
    const done = await publish(alice, sheet('publish', 'ss_hook', [['w1', 'Alice hooked']]));
    const postId = done.results[0]!.postId!;

    const deliver = async (secret: string, query: string, eventId: string) => {
      const raw = JSON.stringify({
        id: eventId,
        type: 'post.published',
        createdAt: new Date().toISOString(),
        data: { postId, status: 'published', platformUrl: 'https://x.example/forged' },
      });
      const res = await fetch(`${base}/v1/webhooks/postato${query}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-webhook-signature': webhookSignatureHeader(secret, raw, Math.floor(Date.now() / 1000)),
        },
        body: raw,
      });
      return { status: res.status, body: (await res.json()) as { result?: string } };
    };
    const rowNow = async () =>
      (await call<RunStatusResponse>(alice, 'GET', `/v1/runs/${done.runId}`)).body.results.find((r) => r.key === 'w1')!;

    expect(await deliver(bobSecret, '', 'evt_forged_1')).toMatchObject({
      status: 200,
      body: { result: 'parked' },
    });
    expect(await deliver(bobSecret, `?workspace=${WORKSPACE_B}`, 'evt_forged_2')).toMatchObject({
      status: 200,
      body: { result: 'parked' },
    });
    expect((await deliver(bobSecret, `?workspace=${WORKSPACE}`, 'evt_forged_3')).status).toBe(400);
    expect(await rowNow()).toMatchObject({ status: 'SCHEDULED' });
    expect((await rowNow()).link).toBeUndefined();

    // The same event id signed by the post's own workspace is applied: the forged ones did not use it up.
    expect(await deliver(aliceSecret, `?workspace=${WORKSPACE}`, 'evt_forged_1')).toMatchObject({
      status: 200,
      body: { result: 'applied' },
    });
    expect(await rowNow()).toMatchObject({ status: 'PUBLISHED' });
  });
});
