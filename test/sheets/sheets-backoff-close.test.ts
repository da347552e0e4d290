/**
 * A Sheets request retrying after a 429 or 5xx does not hold a stopping service for its backoff (up to 20 s each):
 * when the close signal aborts, the backoff ends at once with BudgetClosedError, no further request is sent, and the
 * flusher leaves the results pending in the store, as it does when the budget is closed. The Sheets fake answers every
 * call with a fault; the backoff is a sleep that never elapses by itself, so only the close signal can end it.
 */
import { BudgetClosedError } from '../../src/sheets/write-budget';
import { InMemoryWriteBackStore } from './in-memory-write-back-store';
import { kitFlusher, postsCsv, startSheetsKit, type SheetsKit } from './sheets-test-kit';
import { until } from '../wait-until';

const SS = 'ss-backoff';
const TAB = 'Posts';
/** The longest backoff the service uses. */
const LONG = { baseDelayMs: 20_000, maxDelayMs: 20_000 };

describe('a Sheets request waiting out a retry backoff when the service stops', () => {
  let kit: SheetsKit;
  let closing: AbortController;
  /** The delays the client asked to wait, in order. */
  let backoffs: number[];
  /** A backoff in which time stands still: it ends only when its signal aborts. */
  const heldSleep = (ms: number, signal?: AbortSignal) => {
    backoffs.push(ms);
    return new Promise<void>((_resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  };
  /** API requests the fake received (token requests aside), by status. */
  const apiStatuses = () => kit.fake.requestLog.filter((r) => r.kind !== 'token').map((r) => r.status);

  beforeEach(() => {
    closing = new AbortController();
    backoffs = [];
  });
  afterEach(async () => {
    await kit.fake.close();
  });

  it('when every read gets a 503 and the service closes during the backoff, then the flush ends at once and its results stay pending', async () => {
    kit = await startSheetsKit({ quotaPerMinute: 100_000, faults: { share429: 0, share5xx: 1, applyTo: 'all' } });
    kit.fake.loadCsv(SS, TAB, postsCsv(2));
    const store = new InMemoryWriteBackStore();
    store.put({ runId: 'r1', spreadsheetId: SS, sheetName: TAB, rowKey: 'k001', values: { Status: 'SCHEDULED' } });
    const client = kit.client({ retry: LONG, closed: closing.signal, sleep: heldSleep });
    const flushed = kitFlusher(store, client).flushNow(SS);

    await until('the first 503 and the backoff after it', () => backoffs.length === 1);
    expect(apiStatuses()).toEqual([503]);
    closing.abort();
    const [outcome] = await flushed;

    expect(outcome).toMatchObject({ budgetClosed: true, leftPending: 1, written: 0 });
    expect(outcome!.error).toMatch(/stopping/);
    expect(backoffs).toHaveLength(1); // no second backoff, and no second request
    expect(apiStatuses()).toEqual([503]);
    expect(store.summary()).toMatchObject({ pending: 1, written: 0 });
  });

  it('when an append gets a 429 and the service closes while it is in flight, then it throws BudgetClosedError without waiting or retrying', async () => {
    kit = await startSheetsKit({ quotaPerMinute: 100_000, faults: { share429: 1, share5xx: 0, applyTo: 'writes' } });
    kit.fake.loadCsv(SS, TAB, postsCsv(1));
    const client = kit.client({ retry: LONG, closed: closing.signal, sleep: heldSleep });
    // The stop begins while the fake handles the append, before its 429 reaches the client.
    kit.fake.beforeNextCall(() => closing.abort());

    await expect(client.appendRows(SS, TAB, [['k009', 'late']])).rejects.toBeInstanceOf(BudgetClosedError);
    expect(backoffs).toEqual([]);
    expect(apiStatuses()).toEqual([429]);
    expect(kit.fake.getValues(SS, TAB)).toHaveLength(2);
  });

  it('when the service is not stopping, then a 503 is still retried after its backoff', async () => {
    kit = await startSheetsKit({ quotaPerMinute: 100_000, faults: { share429: 0, share5xx: 1, applyTo: 'all' } });
    kit.fake.loadCsv(SS, TAB, postsCsv(1));
    const waited: number[] = [];
    const client = kit.client({
      retry: { attempts: 3, baseDelayMs: 400, maxDelayMs: 1000 },
      closed: closing.signal,
      sleep: async (ms) => {
        waited.push(ms);
        if (waited.length === 2) kit.fake.update({ faults: { share429: 0, share5xx: 0 } });
      },
    });
    const metadata = await client.getMetadata(SS);
    expect(metadata.sheets.map((s) => s.title)).toEqual([TAB]);
    expect(apiStatuses()).toEqual([503, 503, 200]);
    // Full jitter below base · 2^(n-1): under 400 ms after the first attempt, under 800 ms after the second.
    expect(waited[0]).toBeLessThan(400);
    expect(waited[1]).toBeLessThan(800);
  });
});
