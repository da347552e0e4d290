import request from 'supertest';
import { postsPerKey, goodRows, startKit, fakeApiKey, type Kit, type KitRow } from './publish-test-kit';

describe('publish through the ledger and the embedded dispatcher (sandbox over real HTTP)', () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await startKit();
  });
  afterAll(() => kit.close());

  it('when 40 good rows and 2 invalid ones are published, then each good row gets exactly one post and the invalid ones their error', async () => {
    const rows = [
      ...goodRows(40, 'a'),
      { key: 'bad1', content: 'y'.repeat(400) },
      { key: 'bad2', account: 'acc_ghost' },
    ];
    const res = await kit.run('publish', rows, { spreadsheetId: 'sheet-a' });
    expect(res.status).toBe(202);
    expect(res.body.joined).toBe(false);
    const done = await kit.waitDone(res.body.runId);
    expect(done.state).toBe('done');
    expect(done.counts).toMatchObject({ total: 42, pending: 0, created: 40, failed: 2, skipped: 0, sent: 40 });
    const per = postsPerKey(kit.sandbox);
    for (let i = 0; i < 40; i++) expect(per.get(`a${i}`)).toBe(1);
    const results = await kit.results(res.body.runId);
    expect(results.get('a0')).toMatchObject({ status: 'SCHEDULED', postId: expect.stringMatching(/^pst_/) });
    expect(results.get('bad1')?.status).toBe('INVALID');
    expect(results.get('bad1')?.error).toMatch(/character/i);
    expect(results.get('bad2')?.status).toBe('INVALID');
    // The API key is erased from the ledger once the run has ended.
    expect((await kit.service.ledger.getRun(res.body.runId))?.api_key_sealed).toBeNull();
  });

  it('when the fixed sheet is published again, then only the fixed rows are sent and a cleared Post ID is restored, not re-created', async () => {
    const first: KitRow[] = [...goodRows(5, 'r'), { key: 'rbad', content: 'z'.repeat(400) }];
    const run1 = await kit.run('publish', first, { spreadsheetId: 'sheet-r' });
    await kit.waitDone(run1.body.runId);
    const ids = await kit.results(run1.body.runId);
    // The manager fixes the bad row; rows r0..r3 keep their Post IDs; r4's Post ID was cleared by mistake.
    const second: KitRow[] = [
      ...goodRows(4, 'r').map((r) => ({ ...r, postId: ids.get(r.key)!.postId! })),
      { key: 'r4' },
      { key: 'rbad', content: 'Post for rbad, now short' },
    ];
    const before = kit.sandbox.inspect().posts.length;
    const run2 = await kit.run('publish', second, { spreadsheetId: 'sheet-r' });
    const done = await kit.waitDone(run2.body.runId);
    expect(done.counts).toMatchObject({ created: 1, skipped: 5, failed: 0 });
    expect(kit.sandbox.inspect().posts.length).toBe(before + 1);
    expect(postsPerKey(kit.sandbox).get('r4')).toBe(1);
    const results = await kit.results(run2.body.runId);
    expect(results.get('r4')?.postId).toBe(ids.get('r4')!.postId);
    expect(results.get('rbad')).toMatchObject({ status: 'SCHEDULED', postId: expect.stringMatching(/^pst_/) });
    expect(results.has('r0')).toBe(false); // untouched rows are not rewritten
  });

  it('when a second publish of the same sheet starts while one runs, then the same user joins it and another user is refused', async () => {
    const rows = goodRows(80, 'j');
    const a = await kit.run('publish', rows, { spreadsheetId: 'sheet-j' });
    const b = await kit.run('publish', rows, { spreadsheetId: 'sheet-j' });
    const c = await kit.run('publish', rows, { spreadsheetId: 'sheet-j', user: 'someone-else' });
    expect(b.status).toBe(202);
    expect(b.body).toMatchObject({ runId: a.body.runId, joined: true });
    expect(c.status).toBe(409);
    expect(c.body.message).toMatch(/already has a publish run in progress/);
    await kit.waitDone(a.body.runId);
    const per = postsPerKey(kit.sandbox);
    for (let i = 0; i < 80; i++) expect(per.get(`j${i}`)).toBe(1);
  });

  it('when another user asks for a run, then it gets 404, and the status cursor only returns newer results', async () => {
    const res = await kit.run('publish', goodRows(3, 'v'), { spreadsheetId: 'sheet-v' });
    await kit.waitDone(res.body.runId);
    const other = await request(kit.service.app).get(`/v1/runs/${res.body.runId}`).set(kit.as('intruder'));
    expect(other.status).toBe(404);
    // In shared-secret mode X-User-Id is a label, not an identity: no header value reaches another identity's run.
    const own = await kit.run('publish', goodRows(1, 'g'), { spreadsheetId: 'sheet-g', user: 'owner' });
    await kit.waitDone(own.body.runId, undefined, 'owner');
    for (const claim of ['owner', 'google:owner', 'ops-admin']) {
      const claimed = await request(kit.service.app)
        .get(`/v1/runs/${own.body.runId}`)
        .set('X-Shared-Secret', kit.secret)
        .set('X-User-Id', claim);
      expect(claimed.status).toBe(404);
    }
    const all = await kit.status(res.body.runId);
    expect(all.results).toHaveLength(3);
    const none = await kit.status(res.body.runId, all.cursor);
    expect(none.results).toHaveLength(0);
    expect(none.cursor).toBe(all.cursor);
  });

  it('when the API key is missing, then no run is started', async () => {
    const res = await kit.run('publish', goodRows(2, 'n'), { spreadsheetId: 'sheet-n', apiKey: '' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(fakeApiKey()).not.toBe(fakeApiKey());
  });
});
