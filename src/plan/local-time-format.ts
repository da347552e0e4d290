/**
 * Fast wall-clock arithmetic in an IANA zone for the planner's hot loops, and the shared memoised zone objects: the
 * same strings and instants luxon gives, computed from the zone's memoised offset instead of a DateTime per cell.
 * Anything unusual (invalid zone, year outside 1000–9999, an offset with seconds, a DST change within a day of the
 * time) falls back to luxon itself, so results never differ (test/plan/local-time-format.property.test.ts checks it).
 */
import { DateTime, IANAZone } from 'luxon';

const validity = new Map<string, boolean>();
/** True when `zone` is an IANA zone name luxon knows (or UTC). */
export function isValidZone(zone: string): boolean {
  let ok = validity.get(zone);
  if (ok === undefined) validity.set(zone, (ok = zone === 'UTC' || IANAZone.isValidZone(zone)));
  return ok;
}

const QUARTER_HOUR = 900_000;
const MEMO_LIMIT = 200_000;
/**
 * An IANA zone whose offsets are memoised per quarter hour: every real-world transition falls on a quarter-hour UTC
 * boundary, and asking Intl for offsets dominates the cost of planning thousands of rows.
 */
class MemoIANAZone extends IANAZone {
  private readonly memo = new Map<number, number>();
  override offset(ts: number): number {
    const bucket = Math.floor(ts / QUARTER_HOUR);
    let v = this.memo.get(bucket);
    if (v === undefined) {
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear(); // a long-lived service must not grow without bound
      this.memo.set(bucket, (v = super.offset(ts)));
    }
    return v;
  }
}

const zones = new Map<string, MemoIANAZone>();
/** The luxon zone object for a (valid) zone name, shared and memoised. */
export function zoneOf(name: string): IANAZone {
  let z = zones.get(name);
  if (!z) zones.set(name, (z = new MemoIANAZone(name === 'UTC' ? 'Etc/UTC' : name)));
  return z;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Wall-clock fields to the second, as a sheet cell names a local time. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Wall-clock fields of an instant in a zone, plus the zone's offset in minutes at that instant. */
interface Wall extends LocalParts {
  millisecond: number;
  offset: number;
}

/**
 * The UTC calendar fields of an integer epoch-ms, by integer arithmetic (H. Hinnant's days-to-civil), which is several
 * times cheaper than a Date and its getters. Undefined outside years 1000–9999, where callers fall back to Date/luxon.
 */
function civil(ms: number, offset: number): Wall | undefined {
  if (!Number.isSafeInteger(ms)) return undefined;
  const days = Math.floor(ms / DAY);
  let rest = ms - days * DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1000 || year > 9999) return undefined;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / MINUTE);
  rest -= minute * MINUTE;
  const second = Math.floor(rest / 1000);
  return {
    year,
    month,
    day: doy - Math.floor((153 * mp + 2) / 5) + 1,
    hour,
    minute,
    second,
    millisecond: rest - second * 1000,
    offset,
  };
}

/** The wall clock of `ms` in `zone`, or undefined when the fast path cannot promise luxon's exact answer. */
function wallOf(ms: number, zone: string): Wall | undefined {
  const offset = zoneOf(zone).offset(ms);
  if (!Number.isInteger(offset)) return undefined;
  return civil(ms + offset * MINUTE, offset);
}

/** `ms` as an ISO UTC string without zero milliseconds (2025-07-01T13:30:00Z), as the Postato API writes instants. */
export function utcIso(ms: number): string {
  const w = civil(ms, 0);
  if (!w) {
    const s = new Date(ms).toISOString();
    return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
  }
  const millis = w.millisecond === 0 ? '' : `.${p3(w.millisecond)}`;
  return `${date(w)}T${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)}${millis}Z`;
}

const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const p3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

function date(w: Wall): string {
  return `${w.year}-${p2(w.month)}-${p2(w.day)}`;
}

function offsetText(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes >= 0 ? '+' : '-'}${p2(Math.trunc(abs / 60))}:${p2(abs % 60)}`;
}

const luxon = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone: zoneOf(zone) });

/** The local calendar date of `ms` in `zone` (yyyy-MM-dd), as luxon's toISODate() gives it. */
export function localDate(ms: number, zone: string): string | null {
  const w = wallOf(ms, zone);
  return w ? date(w) : luxon(ms, zone).toISODate();
}

/** `ms` in `zone` as luxon's toISO({ suppressMilliseconds: true }) writes it, e.g. 2025-07-01T09:30:00-04:00. */
export function localIso(ms: number, zone: string): string | null {
  const w = wallOf(ms, zone);
  if (!w) return luxon(ms, zone).toISO({ suppressMilliseconds: true });
  const millis = w.millisecond === 0 ? '' : `.${p3(w.millisecond)}`;
  return `${date(w)}T${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)}${millis}${offsetText(w.offset)}`;
}

/** `ms` in `zone` as luxon's toFormat('yyyy-LL-dd HH:mm:ss ZZ') writes it, for messages. */
export function localStamp(ms: number, zone: string): string {
  const w = wallOf(ms, zone);
  if (!w) return luxon(ms, zone).toFormat('yyyy-LL-dd HH:mm:ss ZZ');
  return `${date(w)} ${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)} ${offsetText(w.offset)}`;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (year: number, month: number) =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month - 1]!;
const between = (n: number, lo: number, hi: number) => Number.isInteger(n) && n >= lo && n <= hi;

/**
 * The one instant whose wall clock in `zone` reads the given parts, when the offset is the same a day before and a
 * day after (so there is no DST gap or overlap to report). Undefined means "ask luxon", never "does not exist".
 */
export function uniqueInstant(parts: LocalParts, zone: string): number | undefined {
  const { year, month, day, hour, minute, second } = parts;
  if (!between(year, 1000, 9999) || !between(month, 1, 12) || !between(day, 1, daysIn(year, month))) return undefined;
  if (!between(hour, 0, 23) || !between(minute, 0, 59) || !between(second, 0, 59)) return undefined;
  const localTs = Date.UTC(year, month - 1, day, hour, minute, second);
  const z = zoneOf(zone);
  const before = z.offset(localTs - DAY);
  if (!Number.isInteger(before) || z.offset(localTs + DAY) !== before) return undefined;
  const utc = localTs - before * MINUTE;
  return z.offset(utc) === before ? utc : undefined;
}
