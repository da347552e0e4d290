/**
 * Reads a `Scheduled at` cell the way a sheet may hold it: date-time text in common locale formats, ISO with or
 * without an offset, or a Sheets serial number. Local times are read in the given IANA zone; a time that does not
 * exist there (DST gap) is refused and one that occurs twice (DST overlap) takes the earlier instant and says so.
 */
import { DateTime } from 'luxon';
import { uniqueInstant, zoneOf, type LocalParts } from './local-time-format';
import type { CellValue } from '../../appsscript/shared/contract';
import { collapseSpaces } from './sheet-contract';
import { timeCellMessages } from './plan-messages';

/** What a Scheduled at cell means. */
export type ParsedTime =
  | { kind: 'blank' }
  | { kind: 'now' }
  | { kind: 'time'; utcMs: number; notes: string[] }
  | { kind: 'error'; message: string };

/** The Sheets epoch: serial 0 is 1899-12-30 00:00 local time. */
const SERIAL_EPOCH_UTC_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;

/** Zone helpers live with the fast wall-clock code; re-exported here for existing callers. */
export { isValidZone, zoneOf } from './local-time-format';

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$/i;
const YMD =
  /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([ap]\.?m\.?)?)?$/i;
const DMY_OR_MDY =
  /^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?)?$/i;
const NAMED_FORMATS = [
  'LLL d, yyyy h:mm a',
  'LLLL d, yyyy h:mm a',
  'LLL d yyyy h:mm a',
  'LLL d, yyyy H:mm',
  'LLLL d, yyyy H:mm',
  'd LLL yyyy H:mm',
  'd LLLL yyyy H:mm',
  'd LLL yyyy h:mm a',
  'EEE, d LLL yyyy H:mm',
  'EEE LLL d yyyy H:mm',
];
let parsers: ReturnType<typeof DateTime.buildFormatParser>[] | undefined;
/** The named formats compiled once (luxon otherwise rebuilds each format's regex on every call). */
function namedParsers(): ReturnType<typeof DateTime.buildFormatParser>[] {
  return (parsers ??= NAMED_FORMATS.map((f) => DateTime.buildFormatParser(f, { locale: 'en-US' })));
}

function to24(hour: number, ampm: string | undefined): number | null {
  if (!ampm) return hour;
  if (hour < 1 || hour > 12) return null;
  const pm = ampm.toLowerCase().startsWith('p');
  return (hour % 12) + (pm ? 12 : 0);
}

/** Turns local wall-clock parts into an instant in `zone`, refusing DST gaps and noting overlaps. */
export function fromLocalParts(parts: LocalParts, zone: string, original: string): ParsedTime {
  // Most cells name an ordinary wall time far from any DST change: answer those without building a DateTime.
  const fast = uniqueInstant(parts, zone);
  if (fast !== undefined) return { kind: 'time', utcMs: fast, notes: [] };
  const dt = DateTime.fromObject(parts, { zone: zoneOf(zone) });
  if (!dt.isValid) return { kind: 'error', message: timeCellMessages.notRealTime(original) };
  if (
    dt.year !== parts.year ||
    dt.month !== parts.month ||
    dt.day !== parts.day ||
    dt.hour !== parts.hour ||
    dt.minute !== parts.minute
  ) {
    return { kind: 'error', message: timeCellMessages.inDstGap(original, zone) };
  }
  const candidates = dt.getPossibleOffsets();
  if (candidates.length > 1) {
    const chosen = candidates.reduce((a, b) => (a.toMillis() <= b.toMillis() ? a : b));
    const utc = chosen.toUTC().toISO({ suppressMilliseconds: true });
    return {
      kind: 'time',
      utcMs: chosen.toMillis(),
      notes: [timeCellMessages.inDstOverlap(original, zone, chosen.toFormat('HH:mm ZZ'), utc)],
    };
  }
  return { kind: 'time', utcMs: dt.toMillis(), notes: [] };
}

function fromSerial(serial: number, zone: string, original: string): ParsedTime {
  if (!Number.isFinite(serial) || serial < 1 || serial > 2_958_465) {
    return { kind: 'error', message: timeCellMessages.serialNotDate(original) };
  }
  // Sheets serials are local wall-clock time; round to the second so 0.1-second float noise disappears.
  const wall = new Date(SERIAL_EPOCH_UTC_MS + Math.round((serial * DAY_MS) / 1000) * 1000);
  if (Number.isInteger(serial)) {
    return { kind: 'error', message: timeCellMessages.serialNoTime(wall.toISOString().slice(0, 10)) };
  }
  return fromLocalParts(
    {
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
      second: wall.getUTCSeconds(),
    },
    zone,
    original,
  );
}

/** Parses a Scheduled at cell in `zone` (an already validated IANA zone). */
export function parseScheduledAt(value: CellValue, zone: string): ParsedTime {
  if (value === null || value === undefined || value === false) return { kind: 'blank' };
  if (typeof value === 'number') return fromSerial(value, zone, String(value));
  if (typeof value === 'boolean') return { kind: 'error', message: timeCellMessages.boolean };
  const text = collapseSpaces(value.trim());
  if (text === '') return { kind: 'blank' };
  if (text.toLowerCase() === 'now') return { kind: 'now' };
  if (/^\d+(\.\d+)?$/.test(text)) return fromSerial(Number(text), zone, text);

  if (ISO_WITH_OFFSET.test(text)) {
    const dt = DateTime.fromISO(text.replace(' ', 'T').replace(/\s+/g, ''), { setZone: true });
    if (!dt.isValid) return { kind: 'error', message: timeCellMessages.notRealTime(text) };
    return { kind: 'time', utcMs: dt.toMillis(), notes: [] };
  }

  let m = YMD.exec(text);
  if (m) {
    if (m[4] === undefined) return noTime(text);
    const hour = to24(Number(m[4]), m[7]);
    if (hour === null) return badTime(text);
    return fromLocalParts(
      {
        year: Number(m[1]),
        month: Number(m[2]),
        day: Number(m[3]),
        hour,
        minute: Number(m[5]),
        second: Number(m[6] ?? 0),
      },
      zone,
      text,
    );
  }

  m = DMY_OR_MDY.exec(text);
  if (m) {
    if (m[5] === undefined) return noTime(text);
    const a = Number(m[1]);
    const b = Number(m[3]);
    const year = m[4]!.length === 2 ? 2000 + Number(m[4]) : Number(m[4]);
    // Slashes read month/day (the US default) unless the first number cannot be a month;
    // dots and dashes read day.month.
    const dayFirst = m[2] !== '/' || a > 12;
    const hour = to24(Number(m[5]), m[8]);
    if (hour === null) return badTime(text);
    const parsed = fromLocalParts(
      { year, month: dayFirst ? b : a, day: dayFirst ? a : b, hour, minute: Number(m[6]), second: Number(m[7] ?? 0) },
      zone,
      text,
    );
    if (parsed.kind === 'time' && m[2] === '/' && a <= 12 && b <= 12 && a !== b) {
      const readAs = DateTime.fromMillis(parsed.utcMs, { zone: zoneOf(zone) }).toFormat('d LLLL yyyy');
      parsed.notes.push(timeCellMessages.readAsMonthDay(text, readAs));
    }
    return parsed;
  }

  // Every named format spells the month, so text without three letters in a row cannot match any of them.
  if (!/[a-z]{3}/i.test(text)) return unreadable(text);
  for (const parser of namedParsers()) {
    const dt = DateTime.fromFormatParser(text, parser, { zone: zoneOf(zone), locale: 'en-US' });
    if (dt.isValid) {
      return fromLocalParts(
        { year: dt.year, month: dt.month, day: dt.day, hour: dt.hour, minute: dt.minute, second: dt.second },
        zone,
        text,
      );
    }
  }
  return unreadable(text);
}

function unreadable(text: string): ParsedTime {
  return { kind: 'error', message: timeCellMessages.unreadable(text) };
}

function noTime(text: string): ParsedTime {
  return { kind: 'error', message: timeCellMessages.noTime(text) };
}

function badTime(text: string): ParsedTime {
  return { kind: 'error', message: timeCellMessages.badAmPmHour(text) };
}
