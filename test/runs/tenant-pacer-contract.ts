/**
 * The behaviour every TenantPacer adapter must show (memory, SQLite, Redis), written once and run against each.
 * Time is a ManualClock, so the sliding window is exercised exactly and without waiting.
 */
import fc from 'fast-check';
import { ManualClock } from '../../src/clock';
import { effectiveLimit, type PacerLimits, type PaceKind, type TenantPacer } from '../../src/pacing/tenant-pacer';

/** Small limits so windows are cheap to walk through: create 10 per 1000 ms, write 5 per 1000 ms. */
export const TEST_LIMITS: PacerLimits = {
  create: { limit: 10, windowMs: 1000 },
  write: { limit: 5, windowMs: 1000 },
  safetyMargin: 0.02,
};

/** TEST_LIMITS with calls that may stay in flight for up to 400 ms (slots are stamped ahead until `sent`). */
export const IN_FLIGHT_LIMITS: PacerLimits = { ...TEST_LIMITS, maxFlightMs: 400 };

/** Builds a fresh pacer on the given clock (TEST_LIMITS unless told); the suite closes it. */
export type PacerFactory = (clock: ManualClock, limits?: PacerLimits) => Promise<TenantPacer> | TenantPacer;

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
      for (let i = 0; i < rule.max; i++) expect(await pacer.tryAcquire(tenant, 'create')).toMatchObject({ ok: true });
      expect(rule.max).toBe(9);
      const refused = await pacer.tryAcquire(tenant, 'create');
      expect(refused).toEqual({ ok: false, retryAtMs: start + rule.spanMs });
      expect(await pacer.nextFreeAt(tenant, 'create')).toBe(start + rule.spanMs);
      clock.set(start + rule.spanMs - 1);
      expect((await pacer.tryAcquire(tenant, 'create')).ok).toBe(false);
      clock.set(start + rule.spanMs);
      expect(await pacer.tryAcquire(tenant, 'create')).toMatchObject({ ok: true });
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
      expect(await pacer.tryAcquire(b, 'create')).toMatchObject({ ok: true });
      expect(await pacer.tryAcquire(a, 'write')).toMatchObject({ ok: true });
      // A shorter, later pause (an older 429 answered late) never shortens the current one.
      await pacer.pause(a, 'create', until - 3000);
      clock.set(until - 1);
      expect((await pacer.tryAcquire(a, 'create')).ok).toBe(false);
      clock.set(until);
      expect(await pacer.tryAcquire(a, 'create')).toMatchObject({ ok: true });
    });

    test('when sends are answered late, then each counts from its answer, and a call still in flight holds its slot', async () => {
      await pacer.close();
      pacer = await factory(clock, IN_FLIGHT_LIMITS);
      const tenant = freshTenant();
      const start = clock.now();
      const slots: string[] = [];
      for (let i = 0; i < rule.max; i++) {
        const r = await pacer.tryAcquire(tenant, 'create');
        if (!r.ok) throw new Error(`slot ${i} refused`);
        slots.push(r.slot);
      }
      // All but the first are answered 100 ms after they were sent (Postato counted each one no later than that).
      clock.advance(100);
      for (const slot of slots.slice(1)) await pacer.sent(tenant, 'create', slot, clock.now());
      // The first is still in flight: a slot frees no sooner than a span after now, and not at the span after its send.
      expect(await pacer.tryAcquire(tenant, 'create')).toEqual({ ok: false, retryAtMs: clock.now() + rule.spanMs });
      clock.set(start + rule.spanMs);
      expect((await pacer.tryAcquire(tenant, 'create')).ok).toBe(false);
      // Answered at +300 ms: it counts from there, so its slot frees at +300 ms + span, not at +100 ms + span.
      clock.set(start + 300);
      await pacer.sent(tenant, 'create', slots[0] as string, clock.now());
      // The others have left the span; with the late one still inside, only max − 1 more fit.
      clock.set(start + 100 + rule.spanMs);
      for (let i = 0; i < rule.max - 1; i++) expect((await pacer.tryAcquire(tenant, 'create')).ok).toBe(true);
      expect(await pacer.tryAcquire(tenant, 'create')).toEqual({ ok: false, retryAtMs: start + 300 + rule.spanMs });
      clock.set(start + 300 + rule.spanMs);
      expect(await pacer.tryAcquire(tenant, 'create')).toMatchObject({ ok: true });
      // Restamping a slot the log no longer holds changes nothing.
      await pacer.sent(tenant, 'create', slots[0] as string, clock.now());
      expect((await pacer.tryAcquire(tenant, 'create')).ok).toBe(false);
    });

    test('when a caller never reports its answer (it crashed), then its slot still expires a flight time plus a span after the send', async () => {
      await pacer.close();
      pacer = await factory(clock, IN_FLIGHT_LIMITS);
      const tenant = freshTenant();
      const start = clock.now();
      for (let i = 0; i < rule.max; i++) await pacer.tryAcquire(tenant, 'create');
      clock.set(start + 400 + rule.spanMs - 1);
      expect((await pacer.tryAcquire(tenant, 'create')).ok).toBe(false);
      clock.set(start + 400 + rule.spanMs);
      expect((await pacer.tryAcquire(tenant, 'create')).ok).toBe(true);
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
              expect(await pacer.tryAcquire(tenant, s.kind)).toMatchObject({ ok: true });
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
