import { NOW, plan, tweet, messagesOf, type RowSpec } from './plan-fixtures';
import { defaultStartMs } from '../../src/plan/sheet-planner';
import { AppError } from '../../src/errors';

const MIN = 60_000;
const at = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const ms = (iso: string | undefined) => Date.parse(iso!);

describe('planSheet', () => {
  it('gives the same plan, byte for byte, for the same rows and settings', () => {
    const rows = [tweet('a'), tweet('b', { 'Scheduled at': '2025-06-03 10:00' }), tweet('c')];
    expect(JSON.stringify(plan(rows))).toBe(JSON.stringify(plan(rows)));
  });

  it('adds a jitter of at most 90 s derived from the key', () => {
    const run = plan([tweet('a', { 'Scheduled at': '2025-06-03 10:00' })]);
    const delta = ms(run.rows[0]!.verdict.plannedAt) - Date.parse('2025-06-03T14:00:00Z');
    expect(delta).toBeGreaterThanOrEqual(0);
    expect(delta).toBeLessThanOrEqual(90_000);
    const none = plan([tweet('a', { 'Scheduled at': '2025-06-03 10:00' })], {
      extra: { settings: { jitterSeconds: 0 } },
    });
    expect(none.rows[0]!.verdict.plannedAt).toBe('2025-06-03T14:00:00Z');
  });

  it('moves a same-account row that is closer than the gap, and reports the move', () => {
    const run = plan(
      [tweet('a', { 'Scheduled at': '2025-06-03 10:00' }), tweet('b', { 'Scheduled at': '2025-06-03 10:05' })],
      { extra: { settings: { jitterSeconds: 0 } } },
    );
    expect(run.rows[1]!.verdict.plannedAt).toBe('2025-06-03T14:15:00Z');
    expect(run.rows[1]!.verdict.status).toBe('WARNING');
    expect(messagesOf(run, 1)).toContain('moved 10 min later');
    expect(messagesOf(run, 1)).toContain('after row 2');
    expect(run.rows[0]!.verdict.status).toBe('READY');
  });

  it('never puts two posts of different accounts in the same second', () => {
    const rows: RowSpec[] = ['acc_1', 'acc_2', 'acc_3'].map((acc, i) =>
      tweet(`k${i}`, { Account: acc, 'Scheduled at': '2025-06-03 10:00' }),
    );
    const run = plan(rows, { extra: { settings: { jitterSeconds: 0 } } });
    const seconds = run.rows.map((r) => r.verdict.plannedAt);
    expect(new Set(seconds).size).toBe(3);
    expect(run.rows.every((r) => r.verdict.status === 'READY')).toBe(true);
  });

  it('auto-slots blank times per account from the start time, respecting the gap', () => {
    const run = plan([tweet('a'), tweet('b'), tweet('c', { Account: 'acc_other' })], {
      extra: { settings: { jitterSeconds: 0 } },
    });
    const start = defaultStartMs(NOW);
    expect(start).toBe(Date.parse('2025-06-02T12:15:00Z'));
    expect(run.settings.startAt).toBe(at(start));
    expect(run.rows[0]!.verdict.plannedAt).toBe(at(start));
    expect(run.rows[1]!.verdict.plannedAt).toBe(at(start + 15 * MIN));
    expect(ms(run.rows[2]!.verdict.plannedAt) - start).toBeLessThan(3000);
    expect(run.rows.map((r) => r.verdict.timeSource)).toEqual(['auto', 'auto', 'auto']);
  });

  it('auto-slots into the holes left by explicit times, without moving them', () => {
    const run = plan([tweet('fixed', { 'Scheduled at': '2025-06-02 08:20' }), tweet('auto')], {
      extra: { settings: { jitterSeconds: 0, startAt: '2025-06-02T12:15:00Z' } },
    });
    expect(run.rows[0]!.verdict.plannedAt).toBe('2025-06-02T12:20:00Z');
    expect(run.rows[1]!.verdict.plannedAt).toBe('2025-06-02T12:35:00Z');
  });

  it('holds the gap after a posted row even when the sheet names its account by username', () => {
    const accounts = [{ id: 'acc_x', platform: 'twitter', username: 'brand', status: 'connected' }];
    const posted = tweet('a', { Account: '@brand', 'Post ID': 'pst_1', 'Scheduled (UTC)': '2025-06-02T12:15:00Z' });
    const run = plan([posted, tweet('b', { Account: '@brand' })], {
      accounts,
      extra: { settings: { jitterSeconds: 0, startAt: '2025-06-02T12:15:00Z' } },
    });
    expect(run.rows[1]!.verdict.accountId).toBe('acc_x');
    expect(run.rows[1]!.verdict.plannedAt).toBe('2025-06-02T12:30:00Z');
  });

  it('keeps the times of rows that already have a Post ID and plans nobody else differently after an edit', () => {
    const rows = [
      tweet('a'),
      tweet('b'),
      tweet('c', { 'Scheduled at': '2025-06-03 10:00' }),
      tweet('d', { Account: 'acc_2' }),
    ];
    const first = plan(rows);
    const posted = first.rows[1]!;
    const after = [...rows];
    after[1] = { ...rows[1], 'Post ID': 'pst_1', 'Scheduled (UTC)': posted.verdict.plannedAt! };
    after[0] = { ...rows[0], Content: 'Edited text' };
    const second = plan(after, { extra: { settings: first.settings } });
    expect(second.rows.map((r) => r.verdict.plannedAt)).toEqual(first.rows.map((r) => r.verdict.plannedAt));
    expect(second.rows[1]!.body).toBeUndefined();
    expect(second.rows[1]!.postId).toBe('pst_1');
    expect(second.summary.alreadyPosted).toBe(1);
    expect(second.summary.toSend).toBe(3);
  });

  it("uses the ledger's known posts like the sheet's Post ID", () => {
    const run = plan([tweet('a', { 'Scheduled at': '2025-06-03 10:00' })], {
      knownPosts: new Map([['a', { rowKey: 'a', postId: 'pst_9', scheduledAt: '2025-06-03T14:00:30Z' }]]),
    });
    expect(run.rows[0]).toMatchObject({
      postId: 'pst_9',
      verdict: { plannedAt: '2025-06-03T14:00:30Z', timeSource: 'existing' },
    });
    expect(run.rows[0]!.body).toBeUndefined();
  });

  it('warns about Instagram rows over 25 per account per day, naming them', () => {
    const rows = Array.from({ length: 27 }, (_, i) => ({
      Key: `ig${i}`,
      Platform: 'instagram',
      Account: 'acc_ig',
      Content: `Post ${i}`,
      Media: 'https://cdn.example.com/a.jpg',
      'Scheduled at': `2025-06-03 ${String(Math.floor(i / 3) + 1).padStart(2, '0')}:${String((i % 3) * 20).padStart(2, '0')}`,
    }));
    const run = plan(rows, { extra: { settings: { jitterSeconds: 0 } } });
    const over = run.rows.filter((r) => r.verdict.messages.some((m) => m.message.includes('about 25 posts')));
    expect(over.map((r) => r.rowNumber)).toEqual([27, 28]);
    expect(run.summary.warnings.join()).toContain('rows over the cap: 27, 28');
    expect(run.summary.counts).toEqual([{ platform: 'instagram', accountId: 'acc_ig', day: '2025-06-03', count: 27 }]);
  });

  it('marks a reused key INVALID on the later row, and a row without key as needing one', () => {
    const run = plan([tweet('a'), tweet('a', { Content: 'other' }), { ...tweet('x'), Key: '' }]);
    expect(run.rows[0]!.verdict.status).toBe('READY');
    expect(run.rows[1]!.verdict.status).toBe('INVALID');
    expect(messagesOf(run, 1)).toContain('also used by row 2');
    expect(run.rows[2]!.verdict.status).toBe('INVALID');
    expect(messagesOf(run, 2)).toContain('needs a key');
    expect(run.rows[2]!.body).toBeUndefined();
  });

  it('warns when the same content goes to one account within a day', () => {
    const run = plan([
      tweet('a', { Content: 'Same words' }),
      tweet('b', { Content: 'same   words' }),
      tweet('c', { Content: 'Same words', Account: 'acc_2' }),
    ]);
    expect(run.rows.map((r) => r.verdict.status)).toEqual(['READY', 'WARNING', 'READY']);
    expect(messagesOf(run, 1)).toContain('same text');
  });

  it('refuses past times, warns beyond a year, and reads "now" as publish immediately', () => {
    const run = plan([
      tweet('p', { 'Scheduled at': '2025-06-01 10:00' }),
      tweet('f', { 'Scheduled at': '2026-07-01 10:00' }),
      tweet('n', { 'Scheduled at': 'now' }),
    ]);
    expect(run.rows[0]!.verdict.status).toBe('INVALID');
    expect(messagesOf(run, 0)).toContain('in the past');
    expect(run.rows[1]!.verdict.status).toBe('WARNING');
    expect(messagesOf(run, 1)).toContain('more than a year');
    expect(run.rows[2]!.body).toMatchObject({ status: 'publish' });
    expect(run.rows[2]!.body!.scheduledAt).toBeUndefined();
  });

  it('places the next post of an account a full gap after a "now" row, whatever the clock\'s milliseconds', () => {
    // A "now" row holds the current time to the millisecond; with no jitter, a later post once landed a fraction of
    // a second inside its gap, met it again, and the planner never returned.
    const run = plan([tweet('n', { 'Scheduled at': 'now' }), tweet('next')], {
      now: NOW + 500,
      extra: { settings: { jitterSeconds: 0 } },
    });
    expect(run.rows[0]!.verdict.plannedAt).toBe('2025-06-02T12:00:00.500Z');
    expect(run.rows[1]!.verdict.plannedAt).toBe('2025-06-02T12:15:01Z');
  });

  it('reads each row in its own zone, else the settings zone, else the spreadsheet zone', () => {
    const run = plan(
      [
        tweet('a', { 'Scheduled at': '2025-06-03 10:00', 'Time zone': 'Asia/Kathmandu', Account: 'a1' }),
        tweet('b', { 'Scheduled at': '2025-06-03 10:00', Account: 'a2' }),
      ],
      { extra: { settings: { jitterSeconds: 0, timeZone: 'America/Sao_Paulo' } } },
    );
    expect(run.rows[0]!.verdict).toMatchObject({
      plannedAt: '2025-06-03T04:15:00Z',
      plannedLocal: '2025-06-03T10:00:00+05:45',
      timeZone: 'Asia/Kathmandu',
    });
    expect(run.rows[1]!.verdict).toMatchObject({
      plannedAt: '2025-06-03T13:00:00Z',
      plannedLocal: '2025-06-03T10:00:00-03:00',
    });
  });

  it('builds the exact create body: thread items, media, options, UTC scheduledAt', () => {
    const run = plan(
      [
        tweet('t', {
          Content: 'one\n---\ntwo',
          Media: 'https://cdn.example.com/a.jpg',
          Options: '{"reply_settings":"following"}',
          'Scheduled at': '2025-06-03T10:00:00Z',
        }),
      ],
      { extra: { settings: { jitterSeconds: 0 } } },
    );
    expect(run.rows[0]!.body).toEqual({
      platform: 'twitter',
      accountId: 'acc_x1',
      status: 'scheduled',
      postType: 'thread',
      content: [{ text: 'one', media: [{ url: 'https://cdn.example.com/a.jpg', type: 'image' }] }, { text: 'two' }],
      options: { reply_settings: 'following' },
      scheduledAt: '2025-06-03T10:00:00Z',
    });
  });

  it('checks accounts when Postato lists them: by id or username; unknown or disconnected is INVALID', () => {
    const accounts = [
      { id: 'acc_x1', platform: 'twitter', username: 'brand', status: 'connected' },
      { id: 'acc_x2', platform: 'twitter', username: 'old', status: 'token_expired' },
    ];
    const run = plan(
      [tweet('a', { Account: '@Brand' }), tweet('b', { Account: 'acc_x2' }), tweet('c', { Account: 'nobody' })],
      { accounts },
    );
    expect(run.rows[0]!.body!.accountId).toBe('acc_x1');
    expect(messagesOf(run, 1)).toContain('token expired');
    expect(messagesOf(run, 2)).toContain('use one of @brand, @old');
    expect(run.summary.accountsChecked).toBe(true);
    const unchecked = plan([tweet('a')], { accounts: null });
    expect(unchecked.summary.accountsChecked).toBe(false);
    expect(unchecked.summary.warnings.join()).toContain('accounts were not checked');
  });

  it('reports collisions with posts scheduled in Postato, except those this sheet created', () => {
    const scheduledPosts = [
      { id: 'pst_other', accountId: 'acc_x1', platform: 'twitter', scheduledAt: '2025-06-03T14:05:00Z' },
      { id: 'pst_mine', accountId: 'acc_x1', platform: 'twitter', scheduledAt: '2025-06-03T16:00:00Z' },
    ];
    const run = plan(
      [
        tweet('a', { 'Scheduled at': '2025-06-03 10:00' }),
        tweet('b', { 'Scheduled at': '2025-06-03 12:00' }),
        tweet('c', { 'Post ID': 'pst_mine', 'Scheduled at': '2025-06-03 12:00' }),
      ],
      { scheduledPosts, extra: { settings: { jitterSeconds: 0 } } },
    );
    expect(run.summary.collisions).toEqual([
      {
        rowNumber: 2,
        key: 'a',
        accountId: 'acc_x1',
        plannedAt: '2025-06-03T14:00:00Z',
        existingPostId: 'pst_other',
        existingScheduledAt: '2025-06-03T14:05:00Z',
      },
    ]);
    expect(run.summary.collisionsChecked).toBe(true);
  });

  it('summarises counts, earliest and latest, pacing and publish duration', () => {
    const rows = Array.from({ length: 240 }, (_, i) => tweet(`k${i}`, { Account: `acc_${i}` }));
    const run = plan(rows);
    expect(run.summary).toMatchObject({ total: 240, ready: 240, toSend: 240, estimatedPublishSeconds: 66 });
    expect(run.summary.pacing).toContain('240 posts go out in 2 batches of up to 120, one per 60 s window');
    expect(plan([tweet('a'), tweet('b')]).summary.pacing).toContain('2 posts go out at once');
    expect(run.summary.earliest! <= run.summary.latest!).toBe(true);
  });

  it('refuses a sheet without the required columns, naming them', () => {
    expect(() => plan([], { extra: { header: ['Key', 'Content'] } })).toThrow(AppError);
    expect(() => plan([], { extra: { header: ['Key', 'Content'] } })).toThrow('no Platform, Account columns');
  });

  it('limits verdicts to onlyKeys without moving anybody', () => {
    const rows = [tweet('a'), tweet('b'), tweet('c')];
    const all = plan(rows);
    const only = plan(rows, { extra: { onlyKeys: ['c'], settings: all.settings } });
    expect(only.rows).toHaveLength(1);
    expect(only.rows[0]!.verdict.plannedAt).toBe(all.rows[2]!.verdict.plannedAt);
  });
});
