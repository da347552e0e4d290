/**
 * criticalSends (src/runs/critical-sends.ts): the sends that decide when a tenant finishes under the sliding-log rule.
 * Checked on worked examples and against a direct simulation of the rule: starting fewer than the critical count now
 * makes the tenant's last send later, starting at least that many does not.
 */
import { criticalSends, slackDeadline } from '../../src/runs/critical-sends';

/**
 * The time of a tenant's last send when sends go as early as the rule lets them (at most `max` in any `span`), the
 * sends already made are at `past` (ascending, inside the span before 0), the first `now` of the `remaining` go at 0
 * and the others no earlier than `later`.
 */
function lastSendAt(past: number[], remaining: number, max: number, span: number, now: number, later: number): number {
  const times = [...past];
  for (let j = 0; j < remaining; j++) {
    let t = j < now ? 0 : later;
    const q = times.length;
    if (q - max >= 0) t = Math.max(t, times[q - max]! + span);
    if (q > 0) t = Math.max(t, times[q - 1]!);
    times.push(t);
  }
  return times[times.length - 1]!;
}

/** A small deterministic generator (mulberry32), so the simulated cases are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('criticalSends', () => {
  it('when a tenant of 300 rows starts at 117 per span, then its first 66 are critical; after them none; after the span 117', () => {
    expect(criticalSends(300, 0, 117)).toBe(66);
    expect(criticalSends(234, 66, 117)).toBe(0);
    expect(criticalSends(234, 0, 117)).toBe(117);
  });

  it('when the rows fit in the free budget of the span, then all of them are critical', () => {
    expect(criticalSends(10, 0, 117)).toBe(10);
    expect(criticalSends(10, 100, 117)).toBe(10);
    expect(criticalSends(117, 0, 117)).toBe(117);
    expect(criticalSends(30, 0, 12)).toBe(6);
    expect(criticalSends(27, 0, 12)).toBe(3);
  });

  it('when the span is full, or nothing is left, then nothing is critical', () => {
    expect(criticalSends(50, 117, 117)).toBe(0);
    expect(criticalSends(50, 130, 117)).toBe(0);
    expect(criticalSends(0, 0, 117)).toBe(0);
  });

  it('when sends of the span are in flight or made, then only the part of the chain still free now is critical', () => {
    // s = 10, R = 120: the last send is the 130th, chained to the 13th: sends 11..13 are critical.
    expect(criticalSends(120, 10, 117)).toBe(3);
    // s = 10, R = 110: the last is the 120th, chained to the 3rd, already made.
    expect(criticalSends(110, 10, 117)).toBe(0);
  });

  it('when there is no limit, then every remaining row is critical', () => {
    expect(criticalSends(5000, 3, Infinity)).toBe(5000);
  });

  it('when simulated under the sliding-log rule, then starting fewer than the critical count now delays the finish and starting that many does not', () => {
    const random = seeded(13);
    const span = 1000;
    const later = 1; // the sends held back go 1 ms later
    for (let n = 0; n < 400; n++) {
      const max = 1 + Math.floor(random() * 15);
      const s = Math.floor(random() * (max + 3));
      const remaining = 1 + Math.floor(random() * 4 * max);
      // Sends already made, inside the span and not about to leave it within `later`.
      const past = Array.from({ length: s }, () => -span + 10 + Math.floor(random() * (span - 20))).sort(
        (a, b) => a - b,
      );
      const c = criticalSends(remaining, s, max);
      const fastest = lastSendAt(past, remaining, max, span, remaining, later);
      for (let now = 0; now <= remaining; now++) {
        const finish = lastSendAt(past, remaining, max, span, now, later);
        expect({ max, s, remaining, now, late: finish > fastest }).toEqual({ max, s, remaining, now, late: now < c });
      }
    }
  });

  it('when nothing is critical now, then the free sends are due one span after the send their chain hangs on', () => {
    const rule = { max: 12, spanMs: 1000 };
    // 30 rows, 6 critical sent at 100..105 and 6 slack at 200..205: the 18 left hang on the 6th (at 105).
    const sent = [100, 101, 102, 103, 104, 105, 200, 201, 202, 203, 204, 205];
    expect(criticalSends(18, 12, 12)).toBe(0);
    expect(slackDeadline(18, sent, 0, rule, 300)).toBe(1105);
    // Once the first critical send left the span, the freed slot is due by the same deadline, not a span later.
    expect(criticalSends(18, 11, 12)).toBe(0);
    expect(slackDeadline(18, sent.slice(1), 0, rule, 1101)).toBe(1105);
    // A chain hanging on a call still in flight counts from now.
    expect(slackDeadline(18, sent.slice(0, 5), 7, rule, 300)).toBe(1300);
    // Critical now, or nothing left.
    expect(slackDeadline(30, [], 0, rule, 300)).toBe(300);
    expect(slackDeadline(0, sent, 0, rule, 300)).toBe(Infinity);
  });
});
