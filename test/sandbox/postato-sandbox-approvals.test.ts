// Approval policies of the Postato sandbox (postato-api.md §14) over real HTTP on a ManualClock: pending_approval on
// create and on leaving draft, approve / reject / request changes over REST and the sandbox endpoint, expiry, and the
// approval.requested / approval.decided webhook events next to the post events.
import { ManualClock } from '../../src/clock';
import { startPostatoSandbox, type PostatoSandbox, type SandboxSettingsPatch } from '../../src/sandbox/postato-sandbox';
import { call, newKey, startReceiver, tweet } from './postato-sandbox-test-helpers';

const T0 = Date.parse('2030-06-01T09:00:00Z');
const WS = '/v1/workspaces/wks_1';

type Event = { id: string; type: string; data: Record<string, unknown> };

describe('Postato sandbox approval policies', () => {
  let sb: PostatoSandbox;
  let clock: ManualClock;
  let key: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let n = 0;
  const events = () => receiver.received.map((r) => JSON.parse(r.rawBody) as Event);
  const create = (body: Record<string, unknown>, k = key) =>
    call(sb.url, 'POST', `${WS}/posts`, { key: k, idem: `a-${++n}`, body });
  const getPost = async (id: string, k = key) => (await call(sb.url, 'GET', `${WS}/posts/${id}`, { key: k })).json;

  async function start(settings: SandboxSettingsPatch) {
    clock = new ManualClock(T0);
    key = newKey();
    receiver = await startReceiver();
    sb = await startPostatoSandbox({
      clock,
      tickIntervalMs: 0,
      settings: { deliveryStepMs: 1000, webhooks: [{ url: receiver.url, secret: 's' }], ...settings },
    });
  }

  afterEach(async () => {
    await sb.close();
    await receiver.close();
  });

  it('when a policy matches, then the post is pending_approval, nothing is delivered, and approval.requested fires', async () => {
    await start({ approvalPolicies: [{ id: 'pol_all' }] });
    const c = await create(tweet());
    expect(c.status).toBe(201);
    expect(c.json.status).toBe('pending_approval');
    expect(c.json.approval).toEqual({
      id: expect.stringMatching(/^apr_[0-9A-Z]{26}$/),
      status: 'pending',
      policyId: 'pol_all',
      requestedAt: '2030-06-01T09:00:00.000Z',
      decidedAt: null,
      reviewerId: null,
      comment: null,
    });
    clock.advance(60_000);
    await sb.tick();
    const post = await getPost(c.json.id);
    expect(post.status).toBe('pending_approval');
    expect(post.items[0].status).toBe('pending_approval');
    expect(post.platformPostId).toBeUndefined();
    expect(events().map((e) => e.type)).toEqual(['approval.requested']);
    expect(events()[0]?.data).toMatchObject({
      postId: c.json.id,
      status: 'pending_approval',
      approvalId: c.json.approval.id,
      policyId: 'pol_all',
    });
    const listed = await call(sb.url, 'GET', `${WS}/posts?status=pending_approval`, { key });
    expect(listed.json.items.map((p: { id: string }) => p.id)).toEqual([c.json.id]);
  });

  it('when a reviewer approves over REST, then the post is queued and delivered, with approval.decided then post events', async () => {
    await start({ approvalPolicies: [{}] });
    const c = await create(tweet());
    const list = await call(sb.url, 'GET', `${WS}/approvals?status=pending`, { key });
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ page: 1, pageSize: 50, total: 1, totalPages: 1 });
    expect(list.json.items[0]).toMatchObject({
      id: c.json.approval.id,
      postId: c.json.id,
      status: 'pending',
      postStatus: 'pending_approval',
      platform: 'twitter',
      accountId: 'acc_tw',
      policyId: 'policy_1',
    });
    clock.advance(5000);
    const ok = await call(sb.url, 'POST', `${WS}/approvals/${c.json.approval.id}/approve`, {
      key,
      body: { comment: 'ship it' },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      status: 'approved',
      postStatus: 'queued',
      reviewerId: expect.stringMatching(/^agt_/),
      comment: 'ship it',
      decidedAt: '2030-06-01T09:00:05.000Z',
    });
    clock.advance(2000);
    await sb.tick();
    const post = await getPost(c.json.id);
    expect(post.status).toBe('published');
    expect(post.approval.status).toBe('approved');
    expect(events().map((e) => e.type)).toEqual([
      'approval.requested',
      'approval.decided',
      'post.queued',
      'post.published',
    ]);
    expect(events()[1]?.data).toEqual({
      postId: c.json.id,
      status: 'queued',
      platform: 'twitter',
      accountId: 'acc_tw',
      approvalId: c.json.approval.id,
      decision: 'approved',
      reviewerId: ok.json.reviewerId,
      comment: 'ship it',
    });
    const again = await call(sb.url, 'POST', `${WS}/approvals/${c.json.approval.id}/reject`, { key });
    expect(again.status).toBe(409);
    expect(again.json.error).toBe('already_decided');
  });

  it('when a scheduled post is approved before its time, then it is scheduled and fires then; approved late, it is queued', async () => {
    await start({ approvalPolicies: [{}] });
    const early = await create(tweet({ status: 'scheduled', scheduledAt: '2030-06-01T12:00:00Z' }));
    const late = await create(tweet({ status: 'scheduled', scheduledAt: '2030-06-01T09:30:00Z' }));
    expect(early.json.status).toBe('pending_approval');
    expect(early.json.scheduledAt).toBe('2030-06-01T12:00:00.000Z');
    sb.decideApproval({ postId: early.json.id, decision: 'approve' });
    expect((await getPost(early.json.id)).status).toBe('scheduled');
    clock.set(Date.parse('2030-06-01T10:00:00Z'));
    await sb.tick();
    expect((await getPost(late.json.id)).status).toBe('pending_approval');
    sb.decideApproval({ approvalId: late.json.approval.id, decision: 'approve', reviewerId: 'usr_boss' });
    const latePost = await getPost(late.json.id);
    expect(latePost.status).toBe('queued');
    expect(latePost.approval.reviewerId).toBe('usr_boss');
    clock.set(Date.parse('2030-06-01T11:59:59Z'));
    await sb.tick();
    expect((await getPost(early.json.id)).status).toBe('scheduled');
    clock.set(Date.parse('2030-06-01T12:00:02Z'));
    await sb.tick();
    expect((await getPost(early.json.id)).status).toBe('published');
    const types = events()
      .filter((e) => e.data.postId === early.json.id)
      .map((e) => e.type);
    expect(types).toEqual([
      'approval.requested',
      'approval.decided',
      'post.scheduled',
      'post.queued',
      'post.published',
    ]);
  });

  it('when a reviewer rejects through the sandbox endpoint, then the post ends rejected with the comment, never delivered', async () => {
    await start({ approvalPolicies: [{}] });
    const c = await create(tweet());
    const r = await call(sb.url, 'POST', '/__sandbox/approvals/decide', {
      body: { postId: c.json.id, decision: 'reject', reviewerId: 'usr_rev', comment: 'Off-brand wording' },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'rejected', postStatus: 'rejected', reviewerId: 'usr_rev' });
    clock.advance(60_000);
    await sb.tick();
    const post = await getPost(c.json.id);
    expect(post.status).toBe('rejected');
    expect(post.approval).toMatchObject({ status: 'rejected', comment: 'Off-brand wording', reviewerId: 'usr_rev' });
    expect(post.platformPostId).toBeUndefined();
    expect(events().map((e) => [e.type, e.data.status, e.data.decision, e.data.comment])).toEqual([
      ['approval.requested', 'pending_approval', undefined, undefined],
      ['approval.decided', 'rejected', 'rejected', 'Off-brand wording'],
    ]);
    const rejected = await call(sb.url, 'GET', `${WS}/posts?status=rejected`, { key });
    expect(rejected.json.total).toBe(1);
    const byStatus = await call(sb.url, 'GET', `${WS}/approvals?status=rejected`, { key });
    expect(byStatus.json.items).toHaveLength(1);
    expect((await call(sb.url, 'GET', `${WS}/approvals?status=pending`, { key })).json.items).toHaveLength(0);
    const twice = await call(sb.url, 'POST', '/__sandbox/approvals/decide', {
      body: { postId: c.json.id, decision: 'approve' },
    });
    expect(twice.status).toBe(409);
    expect(() => sb.decideApproval({ postId: 'pst_nope', decision: 'approve' })).toThrow(/not_found/);
    expect((await call(sb.url, 'POST', '/__sandbox/approvals/decide', { body: { decision: 'approve' } })).status).toBe(
      400,
    );
  });

  it('when changes are requested, then the post is a draft again; resubmitting asks for a new approval', async () => {
    await start({ approvalPolicies: [{}] });
    const c = await create(tweet());
    const first = c.json.approval.id as string;
    const rc = await call(sb.url, 'POST', `${WS}/approvals/${first}/request-changes`, {
      key,
      body: { comment: 'Add the link' },
    });
    expect(rc.json).toMatchObject({ status: 'changes_requested', postStatus: 'draft', comment: 'Add the link' });
    const edited = await call(sb.url, 'PATCH', `${WS}/posts/${c.json.id}`, {
      key,
      body: { content: 'hello world https://example.com', status: 'publish' },
    });
    expect(edited.status).toBe(200);
    expect(edited.json.status).toBe('pending_approval');
    expect(edited.json.approval.id).not.toBe(first);
    expect(edited.json.approval.status).toBe('pending');
    // The old approval keeps its decision; it is no longer the post's current one.
    expect((await call(sb.url, 'GET', `${WS}/approvals/${first}`, { key })).status).toBe(404);
    sb.decideApproval({ postId: c.json.id, decision: 'approve' });
    clock.advance(2000);
    await sb.tick();
    expect((await getPost(c.json.id)).status).toBe('published');
    expect(events().map((e) => [e.type, e.data.decision])).toEqual([
      ['approval.requested', undefined],
      ['approval.decided', 'changes_requested'],
      ['approval.requested', undefined],
      ['approval.decided', 'approved'],
      ['post.queued', undefined],
      ['post.published', undefined],
    ]);
  });

  it('when a draft is created under a policy, then it stays a draft; PATCH to scheduled asks for approval, then schedules', async () => {
    await start({ approvalPolicies: [{}] });
    const d = await create(tweet({ status: 'draft' }));
    expect(d.json.status).toBe('draft');
    expect(d.json.approval).toBeUndefined();
    const s = await call(sb.url, 'PATCH', `${WS}/posts/${d.json.id}`, {
      key,
      body: { status: 'scheduled', scheduledAt: '2030-06-02T09:00:00Z' },
    });
    expect(s.json).toMatchObject({ status: 'pending_approval', scheduledAt: '2030-06-02T09:00:00.000Z' });
    const notEditable = await call(sb.url, 'PATCH', `${WS}/posts/${d.json.id}`, { key, body: { content: 'x' } });
    expect(notEditable.status).toBe(409);
    const a = await call(sb.url, 'GET', `${WS}/approvals/${s.json.approval.id}`, { key });
    expect(a.json).toMatchObject({ postId: d.json.id, status: 'pending' });
    sb.decideApproval({ postId: d.json.id, decision: 'approve' });
    expect((await getPost(d.json.id)).status).toBe('scheduled');
  });

  it('when a draft is published without a policy, then the create key still replays the draft and no second post exists', async () => {
    await start({});
    const body = tweet({ status: 'draft' });
    const d = await call(sb.url, 'POST', `${WS}/posts`, { key, idem: 'draft-1', body });
    const p = await call(sb.url, 'PATCH', `${WS}/posts/${d.json.id}`, { key, body: { status: 'publish' } });
    expect(p.json.status).toBe('queued');
    const replay = await call(sb.url, 'POST', `${WS}/posts`, { key, idem: 'draft-1', body });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json).toMatchObject({ id: d.json.id, status: 'draft' });
    clock.advance(2000);
    await sb.tick();
    expect((await getPost(d.json.id)).status).toBe('published');
    expect(sb.inspect().posts).toHaveLength(1);
  });

  it('matches policies by author kind, platform and workspace, and lets approvals.bypass through', async () => {
    const agent = newKey();
    const human = newKey();
    const bypass = newKey();
    await start({
      keys: [
        { apiKey: agent, tenantId: 't1', workspaceIds: ['wks_1', 'wks_2'] },
        { apiKey: human, tenantId: 't1', workspaceIds: ['wks_1'], kind: 'user', actorId: 'usr_ana' },
        { apiKey: bypass, tenantId: 't1', workspaceIds: ['wks_1'], permissions: ['posts.publish', 'approvals.bypass'] },
      ],
      approvalPolicies: [{ workspaceId: 'wks_1', authors: 'agents', platforms: ['x', 'linkedin'] }],
    });
    const statusOf = async (k: string, body: Record<string, unknown>, ws = 'wks_1') =>
      (await call(sb.url, 'POST', `/v1/workspaces/${ws}/posts`, { key: k, idem: `m-${++n}`, body })).json.status;
    expect(await statusOf(agent, tweet())).toBe('pending_approval');
    expect(await statusOf(agent, tweet({ platform: 'x' }))).toBe('pending_approval');
    expect(await statusOf(agent, tweet(), 'wks_2')).toBe('queued');
    expect(
      await statusOf(agent, {
        platform: 'instagram',
        accountId: 'acc_ig',
        status: 'publish',
        postType: 'feed',
        content: 'pic',
        media: [{ url: 'https://cdn.example.com/a.jpg', type: 'image' }],
      }),
    ).toBe('queued');
    expect(await statusOf(human, tweet())).toBe('queued');
    expect(await statusOf(bypass, tweet())).toBe('queued');
    // Agents hold posts.publish only: the reviewer list and decisions need posts.approve.
    const denied = await call(sb.url, 'GET', `${WS}/approvals`, { key: agent });
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({
      error: 'permission_denied',
      required: 'posts.approve',
      granted: ['posts.publish'],
    });
    const list = await call(sb.url, 'GET', `${WS}/approvals`, { key: human });
    expect(list.json.total).toBe(2);
    const id = list.json.items[0].id;
    expect((await call(sb.url, 'POST', `${WS}/approvals/${id}/approve`, { key: agent })).status).toBe(403);
    const ok = await call(sb.url, 'POST', `${WS}/approvals/${id}/reject`, { key: human, body: { comment: 'no' } });
    expect(ok.json).toMatchObject({ status: 'rejected', reviewerId: 'usr_ana', comment: 'no' });
    // The author may read its own approval.
    expect((await call(sb.url, 'GET', `${WS}/approvals/${id}`, { key: agent })).json.status).toBe('rejected');
    const pending = list.json.items[1].id;
    const bad = await call(sb.url, 'POST', `${WS}/approvals/${pending}/approve`, { key: human, body: { comment: 5 } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.details)).toEqual(['comment']);
  });

  it('when a policy expiry passes undecided, then the approval expires and the post ends rejected', async () => {
    await start({ approvalPolicies: [{ expiresAfterMs: 3_600_000 }] });
    const c = await create(tweet());
    clock.advance(3_599_999);
    await sb.tick();
    expect((await getPost(c.json.id)).status).toBe('pending_approval');
    clock.advance(1);
    await sb.tick();
    const post = await getPost(c.json.id);
    expect(post.status).toBe('rejected');
    expect(post.approval).toMatchObject({ status: 'expired', reviewerId: null, decidedAt: '2030-06-01T10:00:00.000Z' });
    expect(events().pop()).toMatchObject({
      type: 'approval.decided',
      data: { decision: 'expired', status: 'rejected' },
    });
  });

  it('when a pending post is cancelled, then reviewers can no longer see or decide it', async () => {
    await start({ approvalPolicies: [{}] });
    const c = await create(tweet());
    expect((await call(sb.url, 'DELETE', `${WS}/posts/${c.json.id}`, { key })).json).toEqual({ success: true });
    expect((await getPost(c.json.id)).status).toBe('cancelled');
    expect((await call(sb.url, 'GET', `${WS}/approvals`, { key })).json.total).toBe(0);
    const r = await call(sb.url, 'POST', `${WS}/approvals/${c.json.approval.id}/approve`, { key });
    expect(r.status).toBe(404);
  });

  it('when another tenant asks for an approval, then it is not found; bad queries and policies are 400', async () => {
    await start({ approvalPolicies: [{}] });
    const c = await create(tweet());
    const other = newKey();
    expect((await call(sb.url, 'GET', `${WS}/approvals/${c.json.approval.id}`, { key: other })).status).toBe(404);
    expect((await call(sb.url, 'POST', `${WS}/approvals/${c.json.approval.id}/approve`, { key: other })).status).toBe(
      404,
    );
    expect((await call(sb.url, 'GET', `${WS}/approvals?status=maybe`, { key })).status).toBe(400);
    expect((await call(sb.url, 'POST', `${WS}/approvals/${c.json.approval.id}/shrug`, { key })).status).toBe(404);
    const bad = await call(sb.url, 'POST', '/__sandbox/settings', {
      body: { approvalPolicies: [{ authors: 'robots', platforms: ['myspace'] }] },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.details).sort()).toEqual([
      'approvalPolicies.0.authors',
      'approvalPolicies.0.platforms.0',
    ]);
  });

  it('when a webhook registers for approval events only, then it gets exactly those', async () => {
    await start({ approvalPolicies: [{}], webhooks: [] });
    const reg = await call(sb.url, 'POST', `${WS}/webhooks`, {
      key,
      body: { url: receiver.url, events: ['approval.requested', 'approval.decided'] },
    });
    expect(reg.status).toBe(201);
    const c = await create(tweet());
    sb.decideApproval({ postId: c.json.id, decision: 'approve' });
    clock.advance(5000);
    await sb.tick();
    expect(events().map((e) => e.type)).toEqual(['approval.requested', 'approval.decided']);
  });
});
