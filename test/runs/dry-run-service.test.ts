import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/clock';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { planRun, toDryRunResponse } from '../../src/runs/dry-run-service';
import { postatoReadFor, PostatoKeyRejectedError } from '../../src/runs/postato-read-adapter';
import { NOW, request, tweet } from '../plan/plan-fixtures';

const WS = 'wks_01TEST';
const fakeKey = () => 'smcp_' + randomBytes(32).toString('hex');
const defaults = { minGapMinutes: 15, jitterSeconds: 0, createLimit: 120, windowMs: 60_000 };
const accounts = [
  { id: 'acc_x1', workspaceId: WS, platform: 'twitter', username: 'brand', status: 'connected' as const },
  { id: 'acc_x2', workspaceId: WS, platform: 'twitter', username: 'old', status: 'token_expired' as const },
];

async function createScheduled(
  sandbox: PostatoSandbox,
  apiKey: string,
  accountId: string,
  scheduledAt: string,
): Promise<string> {
  const res = await fetch(`${sandbox.url}/v1/workspaces/${WS}/posts`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${apiKey}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': randomBytes(8).toString('hex'),
    },
    body: JSON.stringify({
      platform: 'twitter',
      accountId,
      status: 'scheduled',
      postType: 'tweet',
      content: `existing ${scheduledAt}`,
      scheduledAt,
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe('planRun against the Postato sandbox', () => {
  let sandbox: PostatoSandbox;
  const clock = new ManualClock(NOW);
  beforeAll(async () => {
    sandbox = await startPostatoSandbox({ settings: { accounts }, clock, tickIntervalMs: 0 });
  });
  afterAll(() => sandbox.close());

  it('checks accounts, reports collisions with other posts, and ignores posts this sheet created', async () => {
    const apiKey = fakeKey();
    const other = await createScheduled(sandbox, apiKey, 'acc_x1', '2025-06-03T14:10:00Z');
    const mine = await createScheduled(sandbox, apiKey, 'acc_x1', '2025-06-03T18:00:00Z');
    const req = request(
      [
        tweet('a', { Account: '@brand', 'Scheduled at': '2025-06-03 10:00' }),
        tweet('b', { Account: 'acc_x1', 'Scheduled at': '2025-06-03 12:00' }),
        tweet('c', { Account: 'acc_x1', 'Scheduled at': '2025-06-03 14:00', 'Post ID': mine }),
        tweet('d', { Account: 'acc_x2' }),
      ],
      { workspaceId: WS },
    );
    const planned = await planRun(req, { clock, postato: postatoReadFor(sandbox.url, 2000)(apiKey), defaults });
    const res = toDryRunResponse(planned);
    expect(res.summary.accountsChecked).toBe(true);
    expect(res.summary.collisionsChecked).toBe(true);
    expect(res.summary.collisions).toEqual([
      expect.objectContaining({ rowNumber: 2, existingPostId: other, accountId: 'acc_x1' }),
    ]);
    expect(res.rows.map((r) => r.status)).toEqual(['WARNING', 'READY', 'READY', 'INVALID']);
    expect(planned.rows[0]!.body!.accountId).toBe('acc_x1');
    expect(res.rows[3]!.messages[0]!.message).toContain('token expired');
    expect(res.settings?.minGapMinutes).toBe(15);
  });

  it('carries on without the account check when the account list is unavailable, and says so', async () => {
    sandbox.update({ accountsEndpoint: false });
    try {
      const planned = await planRun(request([tweet('a', { Account: 'acc_unknown' })], { workspaceId: WS }), {
        clock,
        postato: postatoReadFor(sandbox.url, 2000)(fakeKey()),
        defaults,
      });
      expect(planned.summary.accountsChecked).toBe(false);
      expect(planned.rows[0]!.verdict.status).toBe('READY');
      expect(planned.summary.warnings.join(' ')).toContain('accounts were not checked');
    } finally {
      sandbox.update({ accountsEndpoint: true });
    }
  });

  it('fails with a clear 401 when Postato refuses the API key, without echoing it', async () => {
    const known = fakeKey();
    const refused = fakeKey();
    sandbox.update({ keys: [{ apiKey: known, tenantId: 't1', workspaceIds: [WS] }] });
    try {
      const err = await planRun(request([tweet('a')], { workspaceId: WS }), {
        clock,
        postato: postatoReadFor(sandbox.url, 2000)(refused),
        defaults,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PostatoKeyRejectedError);
      expect((err as PostatoKeyRejectedError).status).toBe(401);
      expect((err as Error).message).toContain('check the Postato API key');
      expect((err as Error).message).not.toContain(refused);
    } finally {
      sandbox.update({ keys: 'any' });
    }
  });

  it('treats an unreachable Postato as unavailable rather than failing the dry run', async () => {
    const planned = await planRun(request([tweet('a')]), {
      clock,
      postato: postatoReadFor('http://127.0.0.1:1', 500)(fakeKey()),
      defaults,
    });
    expect(planned.summary).toMatchObject({ accountsChecked: false, collisionsChecked: false, ready: 1 });
  });

  it("uses the ledger's known posts", async () => {
    const knownPosts = {
      knownPosts: async (_scope: unknown, _s: string, keys: string[]) =>
        new Map(
          keys
            .filter((k) => k === 'a')
            .map((k) => [k, { rowKey: k, postId: 'pst_L', scheduledAt: '2025-06-03T15:00:00Z' }]),
        ),
    };
    const planned = await planRun(request([tweet('a'), tweet('b')]), {
      clock,
      knownPosts,
      tenantId: 'tnt_t',
      defaults,
    });
    expect(planned.rows[0]).toMatchObject({ postId: 'pst_L' });
    expect(planned.rows[0]!.body).toBeUndefined();
    expect(planned.rows[1]!.body).toBeDefined();
  });
});
