/**
 * What the write-back costs in Sheets requests, counted at the Sheets fake: one read and one write per flush of a
 * sheet that holds still, one flush per burst of results in the background loop, and reads kept under the read budget
 * (Google limits the service account's reads per minute like its writes).
 */
import { ManualClock, systemClock } from '../../src/clock';
import type { WriteBackFlusherOptions } from '../../src/sheets/write-back-flusher';
import { SlidingWindowWriteBudget } from '../../src/sheets/write-budget';
import type { SheetsClient } from '../../src/sheets/sheets-client';
import { InMemoryWriteBackStore } from './in-memory-write-back-store';
import { kitFlusher, postsCsv, startSheetsKit, type SheetsKit } from './sheets-test-kit';

const TAB = 'Posts';
/** A sheet that already has every output column, as after the add-on's first run. */
const HEADER = [
  'Key',
  'Content',
  'Platform',
  'Status',
  'Post ID',
  'Error',
  'Scheduled (UTC)',
  'Link',
  'Run',
  'Updated',
];

describe('write-back requests', () => {
  let kit: SheetsKit;
  let store: InMemoryWriteBackStore;
  let client: SheetsClient;
  let next = 1;

  beforeEach(async () => {
    kit = await startSheetsKit({ quotaPerMinute: 100_000 });
    store = new InMemoryWriteBackStore();
    client = kit.client();
    next = 1;
  });
  afterEach(async () => {
    await kit.fake.close();
  });

  const flusher = (extra: Partial<WriteBackFlusherOptions> = {}) => kitFlusher(store, client, extra);

  /** The next `n` results of a spreadsheet, as the ledger would hold them after their posts were created. */
  function results(spreadsheetId: string, n: number): void {
    for (let i = 0; i < n; i++, next++) {
      const key = `k${String(next).padStart(3, '0')}`;
      store.put({
        runId: `run-${spreadsheetId}`,
        spreadsheetId,
        sheetName: TAB,
        rowKey: key,
        values: {
          Status: 'SCHEDULED',
          'Post ID': `pst_${next}`,
          Error: '',
          Run: 'r1',
          Updated: '2030-01-01T09:00:00Z',
        },
      });
    }
  }

  function postIds(spreadsheetId: string): string[] {
    const [header = [], ...rows] = kit.fake.getValues(spreadsheetId, TAB);
    const c = header.indexOf('Post ID');
    return rows.map((r) => r[c] ?? '');
  }

  it('when a sheet holds still, then each flush is one read and one write: 1,000 rows in five flushes cost 10 requests', async () => {
    kit.fake.loadCsv('still', TAB, postsCsv(1000, HEADER));
    const f = flusher();
    for (let wave = 0; wave < 5; wave++) {
      results('still', 200);
      const [o] = await f.flushNow('still');
      expect(o!.requests).toEqual({ reads: 1, writes: 1 });
      expect(o!.written).toBe(200);
    }
    const st = kit.fake.stats();
    expect([st.reads, st.writes]).toEqual([5, 5]);
    expect(((st.reads + st.writes) / 1000) * 1000).toBeLessThanOrEqual(25);
    expect(postIds('still').every((id, i) => id === `pst_${i + 1}`)).toBe(true);
    expect(store.summary().pending).toBe(0);
  });

  it('when the sheet lacks the output columns, then the first flush adds them and later flushes still cost one read each', async () => {
    kit.fake.loadCsv('bare', TAB, postsCsv(400));
    const f = flusher();
    for (let wave = 0; wave < 4; wave++) {
      results('bare', 100);
      await f.flushNow('bare');
    }
    const st = kit.fake.stats();
    // One more read than flushes: the read after the header changed sees the new layout and reads it again.
    expect(st.writes).toBe(4);
    expect(st.reads).toBeLessThanOrEqual(5);
    expect(postIds('bare').every((id, i) => id === `pst_${i + 1}`)).toBe(true);
  });

  it('when results arrive in bursts across ticks of the background loop, then it writes once per burst: 300 rows cost at most 25 requests per 1,000', async () => {
    // The production window: a tenant's 117 allowed creations arrive within a few seconds, then nothing until the
    // next window. Each burst here straddles two ticks of the loop, the worst case for one write per tick.
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    kit.fake.loadCsv('bursts', TAB, postsCsv(300, HEADER));
    const f = flusher({ clock });
    const tick = async () => {
      clock.advance(3000);
      return f.flushDue();
    };
    for (const [first, second] of [
      [60, 57],
      [60, 57],
      [40, 26],
    ] as const) {
      results('bursts', first);
      expect((await tick())[0]!.held).toBe(first);
      results('bursts', second);
      expect((await tick())[0]!.held).toBe(first + second);
      const [o] = await tick();
      expect(o!.written).toBe(first + second);
    }
    const st = kit.fake.stats();
    expect([st.reads, st.writes]).toEqual([3, 3]);
    expect(((st.reads + st.writes) / 300) * 1000).toBeLessThanOrEqual(25);
    expect(postIds('bursts').every((id, i) => id === `pst_${i + 1}`)).toBe(true);
  });

  it('when results keep arriving at every tick, then the loop holds them back no longer than maxHoldMs', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    kit.fake.loadCsv('trickle', TAB, postsCsv(100, HEADER));
    const f = flusher({ clock, maxHoldMs: 9000 });
    const heldTicks: number[] = [];
    for (let t = 0; t < 6 && store.summary().written === 0; t++) {
      results('trickle', 5);
      const [o] = await f.flushDue();
      if (o?.held) heldTicks.push(t);
      clock.advance(3000);
    }
    // Held at the ticks 0 s, 3 s and 6 s; at 9 s the results have waited maxHoldMs and are written.
    expect(heldTicks).toEqual([0, 1, 2]);
    expect(store.summary()).toMatchObject({ written: 20, pending: 0 });
  });

  it('when the previous pass of the loop took longer than maxHoldMs, then results first seen in this pass are written, not held for another pass', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    kit.fake.loadCsv('late', TAB, postsCsv(10, HEADER));
    const f = flusher({ clock, maxHoldMs: 9000 });
    expect(await f.flushDue()).toEqual([]);
    // That pass took 20 s (the write budget spread it over many sheets); results came in meanwhile.
    clock.advance(20_000);
    results('late', 5);
    const [o] = await f.flushDue();
    expect(o!.held).toBeUndefined();
    expect(o!.written).toBe(5);
  });

  it('when many spreadsheets flush at once, then reads stay within the read budget in every window and Google never answers 429', async () => {
    const windowMs = 500;
    // The fake enforces the quota the budget keeps: a read over it would be answered 429.
    kit.fake.update({ windowMs, quotaPerMinute: 3 });
    client = kit.client({
      budget: new SlidingWindowWriteBudget({ limit: 3, windowMs, clock: systemClock }),
      readBudget: new SlidingWindowWriteBudget({ limit: 3, windowMs, clock: systemClock }),
    });
    const ids = Array.from({ length: 8 }, (_, i) => `many-${i}`);
    for (const id of ids) {
      kit.fake.loadCsv(id, TAB, postsCsv(10, HEADER));
      next = 1;
      results(id, 10);
    }
    await flusher().drain();
    const st = kit.fake.stats();
    expect(st.reads).toBeGreaterThanOrEqual(ids.length);
    expect(st.maxReadsInAnyMinute).toBeLessThanOrEqual(3);
    expect(st.maxWritesInAnyMinute).toBeLessThanOrEqual(3);
    expect(st.rejected429).toBe(0);
    expect(store.summary()).toMatchObject({ pending: 0, written: 80 });
    for (const id of ids) expect(postIds(id).every((p) => p !== '')).toBe(true);
  });
});
