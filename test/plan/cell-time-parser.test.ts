import { parseScheduledAt, type ParsedTime } from '../../src/plan/cell-time-parser';

const utc = (p: ParsedTime) =>
  p.kind === 'time' ? new Date(p.utcMs).toISOString() : `${p.kind}: ${p.kind === 'error' ? p.message : ''}`;
/** Sheets serial of a UTC wall-clock date (serial 0 = 1899-12-30). */
const serial = (y: number, mo: number, d: number, h: number, mi: number) =>
  (Date.UTC(y, mo - 1, d, h, mi) - Date.UTC(1899, 11, 30)) / 86_400_000;

describe('parseScheduledAt', () => {
  it('reads ISO text without offset in the given zone, and with an offset as written', () => {
    expect(utc(parseScheduledAt('2025-06-01 09:30', 'America/New_York'))).toBe('2025-06-01T13:30:00.000Z');
    expect(utc(parseScheduledAt('2025-06-01T09:30:00', 'Europe/London'))).toBe('2025-06-01T08:30:00.000Z');
    expect(utc(parseScheduledAt('2025-06-01T09:30:00Z', 'America/New_York'))).toBe('2025-06-01T09:30:00.000Z');
    expect(utc(parseScheduledAt('2025-06-01T09:30:00-03:00', 'Europe/London'))).toBe('2025-06-01T12:30:00.000Z');
  });

  it('handles a +05:45 zone both as an IANA zone and as an offset', () => {
    expect(utc(parseScheduledAt('2025-06-01 09:00', 'Asia/Kathmandu'))).toBe('2025-06-01T03:15:00.000Z');
    expect(utc(parseScheduledAt('2025-06-01T09:00:00+05:45', 'America/New_York'))).toBe('2025-06-01T03:15:00.000Z');
  });

  it('reads America/Sao_Paulo (no DST since 2019) and refuses its old DST gap', () => {
    expect(utc(parseScheduledAt('2025-01-15 10:00', 'America/Sao_Paulo'))).toBe('2025-01-15T13:00:00.000Z');
    const gap = parseScheduledAt('2018-11-04 00:30', 'America/Sao_Paulo');
    expect(gap.kind).toBe('error');
  });

  it('refuses a local time inside the spring-forward gap (New York and London)', () => {
    const ny = parseScheduledAt('2025-03-09 02:30', 'America/New_York');
    expect(ny).toEqual({ kind: 'error', message: expect.stringContaining('does not exist in America/New_York') });
    const london = parseScheduledAt('2025-03-30 01:30', 'Europe/London');
    expect(london).toEqual({ kind: 'error', message: expect.stringContaining('does not exist in Europe/London') });
  });

  it('takes the first instant of an ambiguous fall-back time and says so', () => {
    const ny = parseScheduledAt('2025-11-02 01:30', 'America/New_York');
    expect(utc(ny)).toBe('2025-11-02T05:30:00.000Z');
    expect(ny.kind === 'time' && ny.notes[0]).toContain('happens twice');
    const london = parseScheduledAt('2025-10-26 01:30', 'Europe/London');
    expect(utc(london)).toBe('2025-10-26T00:30:00.000Z');
    expect(london.kind === 'time' && london.notes[0]).toContain('took the first one');
  });

  it('reads Sheets serial numbers as local wall-clock time', () => {
    expect(utc(parseScheduledAt(serial(2025, 6, 1, 9, 30), 'America/New_York'))).toBe('2025-06-01T13:30:00.000Z');
    expect(utc(parseScheduledAt(String(serial(2025, 6, 1, 9, 30)), 'Asia/Kathmandu'))).toBe('2025-06-01T03:45:00.000Z');
    expect(parseScheduledAt(serial(2025, 6, 1, 0, 0), 'America/New_York').kind).toBe('error');
  });

  it('reads common locale formats: US month/day with AM/PM, day.month, month names', () => {
    expect(utc(parseScheduledAt('6/1/2025 9:30 PM', 'America/New_York'))).toBe('2025-06-02T01:30:00.000Z');
    expect(utc(parseScheduledAt('25/12/2025 14:00', 'Europe/London'))).toBe('2025-12-25T14:00:00.000Z');
    expect(utc(parseScheduledAt('01.06.2025 09:30', 'Europe/London'))).toBe('2025-06-01T08:30:00.000Z');
    expect(utc(parseScheduledAt('June 1, 2025 9:30 AM', 'America/New_York'))).toBe('2025-06-01T13:30:00.000Z');
    const ambiguous = parseScheduledAt('6/1/2025 09:30', 'America/New_York');
    expect(ambiguous.kind === 'time' && ambiguous.notes.join()).toContain('month/day');
  });

  it('treats blank as auto-slot, "now" as now, and explains what it cannot read', () => {
    expect(parseScheduledAt('', 'UTC')).toEqual({ kind: 'blank' });
    expect(parseScheduledAt(null, 'UTC')).toEqual({ kind: 'blank' });
    expect(parseScheduledAt('NOW', 'UTC')).toEqual({ kind: 'now' });
    expect(parseScheduledAt('2025-06-01', 'UTC')).toEqual({
      kind: 'error',
      message: expect.stringContaining('no time of day'),
    });
    expect(parseScheduledAt('next tuesday', 'UTC')).toEqual({
      kind: 'error',
      message: expect.stringContaining('not a date-time we can read'),
    });
    expect(parseScheduledAt('2025-02-30 10:00', 'UTC')).toEqual({
      kind: 'error',
      message: expect.stringContaining('not a real date'),
    });
  });
});
