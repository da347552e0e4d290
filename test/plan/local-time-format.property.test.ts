import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { localDate, localIso, localStamp, uniqueInstant, utcIso, zoneOf } from '../../src/plan/local-time-format';
import { fromLocalParts } from '../../src/plan/cell-time-parser';
import { collapseSpaces, withoutAt } from '../../src/plan/sheet-contract';
import { parseMediaEntry, splitMedia } from '../../src/plan/media-refs';

// Zones with DST both ways, half-hour and 45-minute offsets, no DST, and a zone name that is not valid.
const ZONES = [
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Asia/Kolkata',
  'America/Sao_Paulo',
  'Pacific/Apia',
  'UTC',
  'Etc/UTC',
  'Mars/Base',
];
const zoneArb = fc.constantFrom(...ZONES);
// 1850–2120: covers local-mean-time offsets (seconds in the offset) and the far future.
const msArb = fc.integer({ min: Date.UTC(1850, 0, 1), max: Date.UTC(2120, 0, 1) });
// Instants near real DST transitions, where a fast path is most likely to go wrong.
const nearTransitionArb = fc
  .tuple(
    fc.constantFrom(
      Date.UTC(2025, 2, 9, 7),
      Date.UTC(2025, 10, 2, 6),
      Date.UTC(2025, 2, 30, 1),
      Date.UTC(2025, 9, 26, 1),
      Date.UTC(2025, 3, 6, 2),
    ),
    fc.integer({ min: -2 * 86_400_000, max: 2 * 86_400_000 }),
  )
  .map(([t, d]) => t + d);
const luxonAt = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone: zoneOf(zone) });

describe('fast wall-clock formatting', () => {
  it('writes exactly what luxon writes for any instant and zone (ISO, date, message stamp)', () => {
    fc.assert(
      fc.property(fc.oneof(msArb, nearTransitionArb), zoneArb, (ms, zone) => {
        const dt = luxonAt(ms, zone);
        expect(localIso(ms, zone)).toBe(dt.toISO({ suppressMilliseconds: true }));
        expect(localDate(ms, zone)).toBe(dt.toISODate());
        expect(localStamp(ms, zone)).toBe(dt.toFormat('yyyy-LL-dd HH:mm:ss ZZ'));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes UTC instants as toISOString does, dropping only zero milliseconds, even for years outside 1000–9999', () => {
    fc.assert(
      fc.property(fc.oneof(msArb, fc.integer({ min: -70_000_000_000_000, max: 8_000_000_000_000_000 })), (ms) => {
        const s = new Date(ms).toISOString();
        expect(utcIso(ms)).toBe(s.endsWith('.000Z') ? s.replace('.000Z', 'Z') : s);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('fast local-time reading', () => {
  const partsArb = fc.record({
    year: fc.integer({ min: 1890, max: 2100 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 24 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
  });

  it('only answers when luxon has one reading, and then gives luxon’s instant', () => {
    fc.assert(
      fc.property(partsArb, zoneArb, (parts, zone) => {
        const fast = uniqueInstant(parts, zone);
        if (fast === undefined) return;
        const dt = DateTime.fromObject(parts, { zone: zoneOf(zone) });
        expect(dt.isValid).toBe(true);
        expect(dt.getPossibleOffsets()).toHaveLength(1);
        expect(fast).toBe(dt.toMillis());
        expect([dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second]).toEqual([
          parts.year,
          parts.month,
          parts.day,
          parts.hour,
          parts.minute,
          parts.second,
        ]);
      }),
      { numRuns: 3000 },
    );
  });

  it('still refuses a DST gap and notes a DST overlap (the fast path steps aside near transitions)', () => {
    expect(
      uniqueInstant({ year: 2025, month: 3, day: 9, hour: 2, minute: 30, second: 0 }, 'America/New_York'),
    ).toBeUndefined();
    expect(
      fromLocalParts({ year: 2025, month: 3, day: 9, hour: 2, minute: 30, second: 0 }, 'America/New_York', 'x').kind,
    ).toBe('error');
    const overlap = fromLocalParts(
      { year: 2025, month: 11, day: 2, hour: 1, minute: 30, second: 0 },
      'America/New_York',
      'x',
    );
    expect(overlap).toMatchObject({ kind: 'time', utcMs: Date.UTC(2025, 10, 2, 5, 30) });
    expect(overlap.kind === 'time' && overlap.notes.length).toBe(1);
  });

  it('knows UTC and real IANA names, and refuses made-up ones', () => {
    expect(IANAZone.isValidZone('Mars/Base')).toBe(false);
    expect(localIso(Date.UTC(2025, 0, 1), 'Mars/Base')).toBeNull();
  });
});

describe('cheap text helpers', () => {
  const textArb = fc.string({
    unit: fc.constantFrom('a', 'B', ' ', '  ', '\t', '\n', '\u00a0', '\u2003', '@', 'é', '🎉', ',', '\r', '-'),
  });

  it('collapseSpaces and withoutAt equal the regex replaces they stand for', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        expect(collapseSpaces(text)).toBe(text.replace(/\s+/g, ' '));
        expect(withoutAt(text)).toBe(text.replace(/^@/, ''));
      }),
      { numRuns: 2000 },
    );
  });

  it('splitMedia gives what the regex split gives, single entries included', () => {
    fc.assert(
      fc.property(textArb, (cell) => {
        expect(splitMedia(cell)).toEqual(
          cell
            .split(/[,\n\r]+/)
            .map((s) => s.trim())
            .filter(Boolean),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('hands each row its own media ref even when the entry was parsed before', () => {
    const a = parseMediaEntry('https://cdn.example.com/same.jpg');
    const b = parseMediaEntry('https://cdn.example.com/same.jpg');
    expect(a).toEqual(b);
    if (!a.ok || !b.ok) throw new Error('expected both to parse');
    expect(a.ref).not.toBe(b.ref);
    a.ref.alt = 'changed';
    expect(b.ref.alt).toBeUndefined();
  });
});
