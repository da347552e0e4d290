import fc from 'fast-check';
import { planStagger, type StaggerItem } from '../../src/plan/stagger-planner';
import { plan, tweet, type RowSpec } from './plan-fixtures';

const GAP = 15 * 60_000;

const itemArb = fc.record({
  account: fc.constantFrom('a', 'b', 'c'),
  offsetMin: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
  jitter: fc.integer({ min: 0, max: 90 }),
});

describe('planStagger properties', () => {
  it('keeps every same-account gap at or above the minimum, and no two posts in one second', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 60 }), (specs) => {
        const items: StaggerItem[] = specs.map((s, i) => ({
          id: i,
          sortKey: `k${i}`,
          accountId: s.account,
          jitterMs: s.jitter * 1000,
          ...(s.offsetMin === undefined ? {} : { desiredMs: s.offsetMin * 60_000 }),
        }));
        const placed = planStagger({ items, fixed: [], startMs: 0, gapMs: GAP });
        const byAccount = new Map<string, number[]>();
        const seconds = new Set<number>();
        for (const item of items) {
          const p = placed.get(item.id)!;
          if (item.desiredMs !== undefined)
            expect(p.ms).toBeGreaterThanOrEqual(Math.floor((item.desiredMs + item.jitterMs) / 1000) * 1000);
          expect(seconds.has(p.ms)).toBe(false);
          seconds.add(p.ms);
          byAccount.set(item.accountId, [...(byAccount.get(item.accountId) ?? []), p.ms]);
        }
        for (const times of byAccount.values()) {
          times.sort((x, y) => x - y);
          for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(GAP);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('planStagger beside posts that hold their time', () => {
  it('places every post a full gap from fixed slots, even slots with a fraction of a second', () => {
    // Fixed slots come from "now" rows and posted rows, whose times need not fall on a whole second.
    const fixedArb = fc.record({ account: fc.constantFrom('a', 'b'), ms: fc.integer({ min: 0, max: 6 * 3_600_000 }) });
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 30 }), fc.array(fixedArb, { maxLength: 10 }), (specs, fixedSpecs) => {
        const items: StaggerItem[] = specs.map((s, i) => ({
          id: i,
          sortKey: `k${i}`,
          accountId: s.account,
          jitterMs: s.jitter * 1000,
          ...(s.offsetMin === undefined ? {} : { desiredMs: s.offsetMin * 60_000 }),
        }));
        const fixed = fixedSpecs.map((f, i) => ({
          accountId: f.account,
          ms: f.ms,
          owner: 1000 + i,
          holdsSecond: true,
        }));
        const placed = planStagger({ items, fixed, startMs: 0, gapMs: GAP });
        for (const item of items) {
          const p = placed.get(item.id)!;
          for (const f of fixed)
            if (f.accountId === item.accountId) expect(Math.abs(p.ms - f.ms)).toBeGreaterThanOrEqual(GAP);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('planSheet properties', () => {
  const rowArb = fc.record({
    account: fc.constantFrom('acc_1', 'acc_2'),
    hour: fc.option(fc.integer({ min: 0, max: 23 }), { nil: undefined }),
    minute: fc.integer({ min: 0, max: 59 }),
  });

  it('is deterministic and reports every row it moved; unreported rows keep their asked-for time', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), (specs) => {
        const rows: RowSpec[] = specs.map((s, i) =>
          tweet(`k${i}`, {
            Account: s.account,
            Content: `text ${i}`,
            ...(s.hour === undefined
              ? {}
              : { 'Scheduled at': `2025-06-04 ${s.hour}:${String(s.minute).padStart(2, '0')}` }),
          }),
        );
        const a = plan(rows, { extra: { settings: { jitterSeconds: 0 } } });
        expect(JSON.stringify(plan(rows, { extra: { settings: { jitterSeconds: 0 } } }))).toBe(JSON.stringify(a));
        const byAccount = new Map<string, { ms: number; moved: boolean }[]>();
        a.rows.forEach((r, i) => {
          const moved = r.verdict.messages.some((m) => m.message.includes('moved'));
          const ms = Date.parse(r.verdict.plannedAt!);
          const asked = specs[i]!.hour;
          if (asked !== undefined && !moved)
            expect(ms - Date.UTC(2025, 5, 4, asked + 4, specs[i]!.minute)).toBeLessThan(60_000);
          byAccount.set(r.verdict.accountId!, [...(byAccount.get(r.verdict.accountId!) ?? []), { ms, moved }]);
        });
        for (const list of byAccount.values()) {
          list.sort((x, y) => x.ms - y.ms);
          for (let i = 1; i < list.length; i++)
            expect(list[i]!.ms - list[i - 1]!.ms >= GAP || list[i]!.moved).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});
