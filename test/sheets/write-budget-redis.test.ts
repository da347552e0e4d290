/**
 * The Redis write budget on the real Redis at 127.0.0.1:6379: one limit shared by instances, slots counting until a
 * window after their request ended, and slots of a dead instance lapsing. Keys live under a unique prefix, removed after.
 */
import { Redis } from 'ioredis';
import { ManualClock } from '../../src/clock';
import { RedisWriteBudget } from '../../src/sheets/write-budget-redis';
import { deleteRedisPrefix, REDIS_TEST_URL, testRedisPrefix } from '../contract/tier-kit';

const prefix = testRedisPrefix();
const a = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
const b = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });

beforeAll(async () => {
  await Promise.all([a.connect(), b.connect()]);
});
afterAll(async () => {
  await deleteRedisPrefix(prefix);
  a.disconnect();
  b.disconnect();
});

let n = 0;
const budgets = (clock: ManualClock, limit: number, maxInFlightMs?: number) => {
  const p = `${prefix}:${n++}`;
  return [a, b].map((redis) => new RedisWriteBudget({ redis, prefix: p, limit, windowMs: 1000, clock, maxInFlightMs }));
};

describe('RedisWriteBudget', () => {
  test('when the limit is taken, then the next take is refused until a window after a slot was released', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const [budget] = budgets(clock, 3);
    const slots = [];
    for (let i = 0; i < 3; i++) {
      const r = await budget!.tryTake();
      expect(r.ok).toBe(true);
      if (r.ok) slots.push(r.slot);
    }
    expect((await budget!.tryTake()).ok).toBe(false);
    clock.advance(200);
    slots[0]!.release();
    const refused = await budget!.tryTake();
    expect(refused).toEqual({ ok: false, retryAtMs: clock.now() + 1000 });
    clock.advance(999);
    expect((await budget!.tryTake()).ok).toBe(false);
    clock.advance(1);
    expect((await budget!.tryTake()).ok).toBe(true);
  });

  test('when two instances take at the same instant, then together they get exactly the limit', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const pair = budgets(clock, 5);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pair[i % 2]!.tryTake()));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(await pair[0]!.inUse()).toBe(5);
  });

  test('when an instance dies holding a slot, then the slot lapses after the in-flight maximum plus a window', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const [budget] = budgets(clock, 1, 5000);
    expect((await budget!.tryTake()).ok).toBe(true); // never released
    const refused = await budget!.tryTake();
    expect(refused).toEqual({ ok: false, retryAtMs: clock.now() + 6000 });
    clock.advance(6000);
    expect((await budget!.tryTake()).ok).toBe(true);
  });

  test('when take() waits for a slot, then it resolves once one frees and rejects when aborted', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const [budget] = budgets(clock, 1);
    const first = await budget!.take();
    first.release();
    const controller = new AbortController();
    const waiting = budget!.take(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeDefined();
    clock.advance(1000);
    await expect(budget!.take()).resolves.toHaveProperty('release');
  });

  test('when the write budget is used up, then the read budget under the same prefix still grants reads, shared by instances', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const p = `${prefix}:${n++}`;
    const write = new RedisWriteBudget({ redis: a, prefix: p, limit: 1, windowMs: 1000, clock });
    const [readA, readB] = [a, b].map(
      (redis) => new RedisWriteBudget({ redis, prefix: p, kind: 'read', limit: 2, windowMs: 1000, clock }),
    );
    expect((await write.tryTake()).ok).toBe(true);
    expect((await write.tryTake()).ok).toBe(false);
    expect((await readA!.tryTake()).ok).toBe(true);
    expect((await readB!.tryTake()).ok).toBe(true);
    expect((await readA!.tryTake()).ok).toBe(false);
  });
});
