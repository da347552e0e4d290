/**
 * The behaviour every TenantPacer adapter must show (memory, SQLite, Redis), written once and run against each.
 * Time is a ManualClock, so the sliding window is exercised exactly and without waiting.
 */
import fc from 'fast-check';
import { ManualClock } from '../../src/clock';
import { effectiveLimit, type PacerLimits, type PaceKind, type TenantPacer } from '../../src/runs/tenant-pacer';

/** Small limits so windows are cheap to walk through: create 10 per 1000 ms, write 5 per 1000 ms. */
export const TEST_LIMITS: PacerLimits = {
  create: { limit: 10, windowMs: 1000 },
  write: { limit: 5, windowMs: 1000 },
  safetyMargin: 0.02,
};

/** Builds a fresh pacer on the given clock; the suite closes it. */
export type PacerFactory = (clock: ManualClock) => Promise<TenantPacer> | TenantPacer;

let tenantSeq = 0;
const freshTenant = () => `tenant-${process.pid}-${Date.now()}-${tenantSeq++}`;

/** Asserts that no rolling window of `windowMs` holds more than `limit` of the given send times. */
export function assertWithinLimit(timesAsc: number[], limit: number, windowMs: number): void {
  for (let i = 0; i + limit < timesAsc.length; i++) {
    const span = (timesAsc[i + limit] as number) - (timesAsc[i] as number);
    if (span < windowMs) {
      throw new Error(`${limit + 1} sends within ${span} ms (window ${windowMs} ms), starting at index ${i}`);
    }
  }
}

/** Registers the shared contract tests for one adapter. */
export function describePacerContract(name: string, factory: PacerFactory, opts: { propertyRuns?: number } = {}): void {
  describe(`${name}: TenantPacer contract`, () => {
    const rule = effectiveLimit(TEST_LIMITS, 'create');
    let clock: ManualClock;
    let pacer: TenantPacer;

    beforeEach(async () => {
      clock = new ManualClock(Date.UTC(2030, 0, 1));
      pacer = await factory(clock);
    });
    afterEach(async () => {
      await pacer.close();
    });

    test('when a tenant starts cold, then it may burst L′ at once and the next slot opens when the first send leaves W + m', async () => {
      const tenant = freshTenant();
      const start = clock.now();
      for (let i = 0; i < rule.max; i++) expect(await pacer.tryAcquire(tenant, 'create')).toEqual({ ok: true });
      expect(rule.max).toBe(9);
      const refused = await pacer.tryAcquire(tenant, 'create');
      expect(refused).toEqual({ ok: false, retryAtMs: start + rule.spanMs });
      expect(await pacer.nextFreeAt(tenant, 'create')).toBe(start + rule.spanMs);
      clock.set(start + rule.spanMs - 1);
      expect((await pacer.tryAcquire(tenant, 'create')).ok).toBe(false);
      clock.set(start + rule.spanMs);
      expect(await pacer.tryAcquire(tenant, 'create')).toEqual({ ok: true });
    });

    test('when the slot is free, then nextFreeAt is now and a refusal never reserves a slot', async () => {
      const tenant = freshTenant();
      expect(await pacer.nextFreeAt(tenant, 'write')).toBe(clock.now());
      const w = effectiveLimit(TEST_LIMITS, 'write');
      for (let i = 0; i < w.max; i++) await pacer.tryAcquire(tenant, 'write');
      for (let i = 0; i < 20; i++) expect((await pacer.tryAcquire(tenant, 'write')).ok).toBe(false);
      clock.advance(w.spanMs);
      // Had refusals been logged, the window would still be full.
      for (let i = 0; i < w.max; i++) expect((await pacer.tryAcquire(tenant, 'write')).ok).toBe(true);
    });

    test('when creations are exhausted, then writes (PATCH/DELETE) of the same tenant still have their own budget', async () => {
      const tenant = freshTenant();
      for (let i = 0; i < rule.max; i++) await pacer.tryAcquire(tenant, 'create');
      expect((await pacer.tryAcquire(tenant, 'create')).ok).toBe(false);
      expect((await pacer.tryAcquire(tenant, 'write')).ok).toBe(true);
    });

    test('when one tenant is paused after a 429, then it gets no slot until the pause ends and other tenants are untouched', async () => {
      const a = freshTenant();
      const b = freshTenant();
      const until = clock.now() + 5000;
      await pacer.pause(a, 'create', until);
      expect(await pacer.tryAcquire(a, 'create')).toEqual({ ok: false, retryAtMs: until });
      expect(await pacer.nextFreeAt(a, 'create')).toBe(until);
      expect(await pacer.tryAcquire(b, 'create')).toEqual({ ok: true });
      expect(await pacer.tryAcquire(a, 'write')).toEqual({ ok: true });
      // A shorter, later pause (an older 429 answered late) never shortens the current one.
      await pacer.pause(a, 'create', until - 3000);
      clock.set(until - 1);
      expect((await pacer.tryAcquire(a, 'create')).ok).toBe(false);
      clock.set(until);
      expect(await pacer.tryAcquire(a, 'create')).toEqual({ ok: true });
    });

    test('when one tenant has a long backlog, then another tenant still bursts immediately', async () => {
      const busy = freshTenant();
      const idle = freshTenant();
      for (let i = 0; i < 50; i++) await pacer.tryAcquire(busy, 'create');
      for (let i = 0; i < rule.max; i++) expect((await pacer.tryAcquire(idle, 'create')).ok).toBe(true);
    });

    test('for any request pattern, no rolling window holds more than the limit, and a refused caller succeeds at retryAtMs', async () => {
      const step = fc.record({
        // Mostly bursts and small steps (which fill the window), sometimes a long gap (which drains it).
        advance: fc.oneof(
          { arbitrary: fc.constant(0), weight: 4 },
          { arbitrary: fc.integer({ min: 1, max: 60 }), weight: 5 },
          { arbitrary: fc.integer({ min: 61, max: 1500 }), weight: 1 },
        ),
        tenant: fc.integer({ min: 0, max: 1 }),
        kind: fc.constantFrom<PaceKind>('create', 'write'),
        jumpToRetry: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 30, maxLength: 200 }), async (steps) => {
          const tenants = [freshTenant(), freshTenant()];
          const sent = new Map<string, number[]>();
          for (const s of steps) {
            clock.advance(s.advance);
            const tenant = tenants[s.tenant] as string;
            const r = await pacer.tryAcquire(tenant, s.kind);
            const key = `${s.kind}/${tenant}`;
            if (r.ok) {
              sent.set(key, [...(sent.get(key) ?? []), clock.now()]);
              continue;
            }
            expect(r.retryAtMs).toBeGreaterThan(clock.now());
            if (s.jumpToRetry) {
              clock.set(r.retryAtMs);
              expect(await pacer.tryAcquire(tenant, s.kind)).toEqual({ ok: true });
              sent.set(key, [...(sent.get(key) ?? []), clock.now()]);
            }
          }
          for (const [key, times] of sent) {
            const kind = key.split('/')[0] as PaceKind;
            const eff = effectiveLimit(TEST_LIMITS, kind);
            assertWithinLimit(times, TEST_LIMITS[kind].limit, TEST_LIMITS[kind].windowMs);
            assertWithinLimit(times, eff.max, eff.spanMs);
          }
        }),
        { numRuns: opts.propertyRuns ?? 100 },
      );
    });
  });
}
