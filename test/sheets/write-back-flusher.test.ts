/** The flusher against the Sheets fake with the real googleapis client: rows by key, moving rows, faults, 403, budget. */
import { ManualClock, systemClock } from '../../src/clock';
import type { FlushOutcome, WriteBackFlusherOptions } from '../../src/sheets/write-back-flusher';
import { SlidingWindowWriteBudget } from '../../src/sheets/write-budget';
import type { SheetsClient } from '../../src/sheets/sheets-client';
import type { OutputColumn } from '../../src/sheets/write-back-store';
import { InMemoryWriteBackStore } from './in-memory-write-back-store';
import { kitFlusher, postsCsv, startSheetsKit, type SheetsKit } from './sheets-test-kit';

const SS = 'ss-flush';
const TAB = "Posts 'Q3'";

function col(values: string[][], name: string): number {
  return values[0]!.indexOf(name);
}

/** Map key → Status cell of its row, from the fake's stored values. */
function statusByKey(values: string[][]): Map<string, string> {
  const s = col(values, 'Status');
  return new Map(values.slice(1).map((r) => [r[0] ?? '', s >= 0 ? (r[s] ?? '') : '']));
}

describe('WriteBackFlusher', () => {
  let kit: SheetsKit;
  let store: InMemoryWriteBackStore;
  let client: SheetsClient;

  beforeEach(async () => {
    kit = await startSheetsKit({ quotaPerMinute: 100_000 });
    store = new InMemoryWriteBackStore();
    client = kit.client();
  });
  afterEach(async () => {
    await kit.fake.close();
  });

  /** A new result of the row `rowKey` of the test's tab, by run (and tenant scope, when a test names one). */
  const put = (runId: string, rowKey: string, values: Partial<Record<OutputColumn, string>>, scope?: string) =>
    store.put({ runId, spreadsheetId: SS, sheetName: TAB, rowKey, values, ...(scope ? { scope } : {}) });
  const flusher = (extra: Partial<WriteBackFlusherOptions> = {}) =>
    kitFlusher(store, client, { flushEveryMs: 20, ...extra });

  it('writes each result into the row with its key, adds missing output columns, and stores formula-looking text as text', async () => {
    kit.fake.loadCsv(SS, TAB, postsCsv(5));
    put('r1', 'k002', { Status: 'FAILED', Error: '=HYPERLINK("http://evil.example","click")', Run: 'r1' });
    put('r1', 'k004', {
      Status: 'SCHEDULED',
      'Post ID': 'pst_1',
      Error: '',
      Link: '+1 555',
      Run: 'r1',
      Updated: '@now',
    });
    const outcomes = await flusher().flushNow(SS);

    const v = kit.fake.getValues(SS, TAB);
    expect(v[0]).toEqual(['Key', 'Content', 'Platform', 'Status', 'Error', 'Run', 'Post ID', 'Link', 'Updated']);
    expect(v[2]!.slice(3, 6)).toEqual(['FAILED', '=HYPERLINK("http://evil.example","click")', 'r1']);
    expect(v[4]!.slice(3)).toEqual(['SCHEDULED', '', 'r1', 'pst_1', '+1 555', '@now']);
    expect(v[1]!.slice(3).every((c) => c === '')).toBe(true);
    expect(kit.fake.formulaCells(SS, TAB)).toEqual([]);
    expect(store.summary()).toMatchObject({ pending: 0, written: 2 });
    // one read, one batchUpdate, one confirming read (the header changed, so the client re-reads its layout once)
    expect(outcomes[0]!.requests.writes).toBe(1);
    expect(kit.fake.stats().writes).toBe(1);
  });

  it("when two tenants' results for the same key wait together, the row shows the newest tenant's result only, never a mix", async () => {
    kit.fake.loadCsv(SS, TAB, postsCsv(2));
    // Tenant A's run created k001's post; tenant B's later run of the same key failed (no post of its own).
    put(
      'rA',
      'k001',
      { Status: 'SCHEDULED', 'Post ID': 'pst_a', Link: 'https://x.example/a', Run: 'rA' },
      'tnt_a\u0000wks',
    );
    // Tenant A's own later result of k002 merges with its earlier one, as before.
    put('rA', 'k002', { 'Post ID': 'pst_a2' }, 'tnt_a\u0000wks');
    put('rA2', 'k002', { Status: 'PUBLISHED', Run: 'rA2' }, 'tnt_a\u0000wks');
    put('rB', 'k001', { Status: 'FAILED', Error: 'Postato refused the post.', Run: 'rB' }, 'tnt_b\u0000wks');
    await flusher().flushNow(SS);

    const v = kit.fake.getValues(SS, TAB);
    const row = (i: number) => Object.fromEntries(v[0]!.map((h, j) => [h, v[i]![j] ?? '']));
    expect(row(1)).toMatchObject({ Key: 'k001', Status: 'FAILED', Error: 'Postato refused the post.', Run: 'rB' });
    expect(row(1)['Post ID'] ?? '').toBe('');
    expect(row(1).Link ?? '').toBe('');
    expect(row(2)).toMatchObject({ Key: 'k002', Status: 'PUBLISHED', 'Post ID': 'pst_a2', Run: 'rA2' });
    // A's superseded result of k001 is settled, not left pending for ever.
    expect(store.summary()).toMatchObject({ pending: 0 });
  });

  it('records a vanished key as removed and writes nothing at a guessed position', async () => {
    kit.fake.loadCsv(SS, TAB, postsCsv(3, ['Key', 'Content', 'Platform', 'Status']));
    put('r1', 'k009', { Status: 'SCHEDULED' });
    const before = kit.fake.getValues(SS, TAB);
    await flusher().flushNow(SS);
    expect(kit.fake.getValues(SS, TAB)).toEqual(before);
    expect(store.summary().removed).toEqual(['k009']);
    expect(kit.fake.stats().writes).toBe(0);
  });

  it('puts an error on both rows of a duplicated key and nothing else', async () => {
    kit.fake.loadCsv(SS, TAB, 'Key,Content,Status,Error\nk1,a,,\nk2,b,,\nk1,c,,\n');
    put('r1', 'k1', { Status: 'SCHEDULED', Error: '' });
    put('r1', 'k2', { Status: 'SCHEDULED' });
    await flusher().flushNow(SS);
    const v = kit.fake.getValues(SS, TAB);
    expect(v[1]![2]).toBe('');
    expect(v[3]![2]).toBe('');
    expect(v[1]![3]).toMatch(/The key "k1" appears on rows 2, 4/);
    expect(v[3]![3]).toMatch(/The key "k1" appears on rows 2, 4/);
    expect(v[2]![2]).toBe('SCHEDULED');
    expect(store.summary().duplicates).toEqual(['k1']);
  });

  it('when rows are sorted, moved, inserted and deleted between calls during a 300-row run, every result ends in its own row', async () => {
    kit.fake.loadCsv(SS, TAB, postsCsv(300, ['Key', 'Content', 'Platform', 'Status', 'Run']));
    const deleted = new Set<string>();
    let inserted = 0;
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const m = kit.fake.mutate(SS, TAB);
    // A user edit lands before every third API call. A flush of a sheet that holds still is one read and one write,
    // so edits fall in turn between a read and its write (the echo of the write shows it) and between a write and
    // the next flush's read.
    kit.fake.beforeEachCall((n) => {
      if (n % 3 !== 0) return;
      const rows = kit.fake.getValues(SS, TAB).length;
      switch ((n / 3) % 5) {
        case 0:
          m.sortBy('Content', rnd() < 0.5);
          break;
        case 1:
          m.moveRow(2 + Math.floor(rnd() * (rows - 1)), 2 + Math.floor(rnd() * (rows - 1)));
          break;
        case 2: {
          const at = 2 + Math.floor(rnd() * (rows - 1));
          deleted.add(kit.fake.getValues(SS, TAB)[at - 1]![0]!);
          m.deleteRow(at);
          break;
        }
        case 3:
          m.insertRowAt(2 + Math.floor(rnd() * (rows - 1)), [`new${++inserted}`, 'inserted by a user']);
          break;
        default:
          m.sortBy('Platform');
      }
    });
    const f = flusher({ flushRows: 60 });
    const outcomes: FlushOutcome[] = [];
    for (let i = 1; i <= 300; i++) {
      const key = `k${String(i).padStart(3, '0')}`;
      put('r1', key, { Status: `DONE ${key}`, Run: 'r1' });
      if (i % 25 === 0) outcomes.push(...(await f.flushNow(SS)));
    }
    outcomes.push(...(await f.drain(SS)));
    kit.fake.beforeEachCall(null);

    const v = kit.fake.getValues(SS, TAB);
    const status = statusByKey(v);
    const runCol = col(v, 'Run');
    for (const row of v.slice(1)) {
      const key = row[0]!;
      if (key.startsWith('new')) expect([row[3] ?? '', row[runCol] ?? '']).toEqual(['', '']);
      else expect(status.get(key)).toBe(`DONE ${key}`);
    }
    const s = store.summary();
    expect(s.pending).toBe(0);
    // Keys deleted before their result was confirmed are removed; every other result is written.
    expect(s.removed.every((k) => deleted.has(k))).toBe(true);
    expect(s.written + s.removed.length).toBe(300);
    expect(deleted.size).toBeGreaterThanOrEqual(2);
    expect(inserted).toBeGreaterThanOrEqual(2);
    // Some writes landed on moved rows: their echo showed it and the flush read again to repair.
    expect(outcomes.some((o) => o.requests.reads >= 2)).toBe(true);
  });

  it('when 20% of writes fail with 429 or 5xx, no result is lost', async () => {
    kit.fake.loadCsv(SS, TAB, postsCsv(120, ['Key', 'Content', 'Platform', 'Status']));
    kit.fake.update({ faults: { share429: 0.1, share5xx: 0.1, seed: 42, applyTo: 'all' } });
    const f = flusher({ flushRows: 25 });
    for (let i = 1; i <= 120; i++) {
      const key = `k${String(i).padStart(3, '0')}`;
      put('r1', key, { Status: `OK ${key}` });
    }
    await f.drain(SS);
    const status = statusByKey(kit.fake.getValues(SS, TAB));
    for (let i = 1; i <= 120; i++) {
      const key = `k${String(i).padStart(3, '0')}`;
      expect(status.get(key)).toBe(`OK ${key}`);
    }
    expect(store.summary()).toMatchObject({ pending: 0, written: 120 });
    const st = kit.fake.stats();
    expect(st.rejected429 + st.rejected5xx).toBeGreaterThan(0);
  });

  it('when Google answers 403, keeps the results, says whom to share with, and writes once the sheet is shared', async () => {
    kit.fake.loadCsv(SS, TAB, postsCsv(3, ['Key', 'Content', 'Platform', 'Status']));
    kit.fake.shareWith(SS, ['someone-else@example.com']);
    const clock = new ManualClock(1_000_000);
    const f = flusher({ clock, forbiddenPauseMs: 30_000 });
    put('r1', 'k001', { Status: 'SCHEDULED' });
    const [o] = await f.flushNow(SS);
    expect(o!.leftPending).toBe(1);
    expect(store.access.at(-1)).toEqual({
      spreadsheetId: SS,
      ok: false,
      message: `Share the sheet with ${kit.sa.email} as an editor, then try again.`,
    });
    expect(store.summary().pending).toBe(1);

    kit.fake.shareWith(SS, null);
    const callsBefore = kit.fake.requestLog.length;
    await f.flushNow(SS); // still paused: no call at all
    expect(kit.fake.requestLog.length).toBe(callsBefore);
    clock.advance(30_001);
    await f.flushNow(SS);
    expect(statusByKey(kit.fake.getValues(SS, TAB)).get('k001')).toBe('SCHEDULED');
    expect(store.access.at(-1)).toEqual({ spreadsheetId: SS, ok: true });
    expect(store.summary().pending).toBe(0);
  });

  it('never sends more writes in any window than the budget allows, retries included', async () => {
    const windowMs = 400;
    kit.fake.update({ windowMs, faults: { share429: 0.15, share5xx: 0.15, seed: 3 } });
    kit.fake.loadCsv(SS, TAB, postsCsv(40, ['Key', 'Content', 'Platform', 'Status']));
    client = kit.client({ budget: new SlidingWindowWriteBudget({ limit: 3, windowMs, clock: systemClock }) });
    const f = flusher({ flushRows: 5 });
    for (let i = 1; i <= 40; i++) {
      const key = `k${String(i).padStart(3, '0')}`;
      put('r1', key, { Status: 'SCHEDULED' });
    }
    await f.drain(SS);
    const st = kit.fake.stats();
    expect(st.writes).toBeGreaterThanOrEqual(8);
    expect(st.maxWritesInAnyMinute).toBeLessThanOrEqual(3);
    expect(store.summary().pending).toBe(0);
  });

  it('runs in the background every flushEveryMs and stops cleanly', async () => {
    kit.fake.loadCsv(SS, TAB, postsCsv(2, ['Key', 'Content', 'Platform', 'Status']));
    const f = flusher({ flushEveryMs: 10 });
    f.start();
    put('r1', 'k002', { Status: 'QUEUED' });
    for (let i = 0; i < 200 && store.summary().pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await f.stop();
    expect(statusByKey(kit.fake.getValues(SS, TAB)).get('k002')).toBe('QUEUED');
  });

  it('when started again after a stop, writes results again (in the background and on demand)', async () => {
    kit.fake.loadCsv(SS, TAB, postsCsv(3, ['Key', 'Content', 'Platform', 'Status']));
    const f = flusher({ flushEveryMs: 10 });
    f.start();
    await f.stop();
    f.start();
    // Before, stop() left the flusher closed for good: every later flush skipped every spreadsheet.
    put('r1', 'k002', { Status: 'QUEUED' });
    for (let i = 0; i < 200 && store.summary().pending > 0; i++) await new Promise((r) => setTimeout(r, 10));
    put('r1', 'k003', { Status: 'FAILED' });
    await f.flushNow(SS);
    await f.stop();
    const status = statusByKey(kit.fake.getValues(SS, TAB));
    expect([status.get('k002'), status.get('k003')]).toEqual(['QUEUED', 'FAILED']);
    expect(store.summary().pending).toBe(0);
  });
});
