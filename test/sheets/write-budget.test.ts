/** The in-process write budget on a manual clock. */
import { ManualClock } from '../../src/clock';
import { SlidingWindowWriteBudget } from '../../src/sheets/write-budget';

describe('SlidingWindowWriteBudget', () => {
  it('grants `limit` slots per window, counting each from the end of its request', async () => {
    const clock = new ManualClock(0);
    const b = new SlidingWindowWriteBudget({ limit: 2, windowMs: 60_000, clock });
    const a = await b.tryTake();
    const c = await b.tryTake();
    expect(a.ok && c.ok).toBe(true);
    clock.advance(5_000);
    if (a.ok) a.slot.release();
    const refused = await b.tryTake();
    expect(refused).toEqual({ ok: false, retryAtMs: 65_000 });
    clock.advance(59_999);
    expect((await b.tryTake()).ok).toBe(false);
    clock.advance(1);
    expect((await b.tryTake()).ok).toBe(true);
    // the slot never released stays counted: an in-flight request can still reach Google
    expect(b.inUse()).toBe(2);
  });
});
