/**
 * Dates written with slashes, as spreadsheet locales write them: 01/06/2025 09:30 is 1 June in a day-first locale and
 * 6 January in the US. The sheet contract reads slashes month/day; a CSV from Excel in a day-first locale would be
 * misread, so the campaign command decides the order for the whole file and rewrites such cells as 2025-06-01 09:30
 * before they are sent. The order comes from --date-order, else from dates that can only be read one way, else from
 * the delimiter (Excel writes `;` exactly in the locales that write the day first). A date that fits neither order,
 * or a file that mixes both, is refused with the row named.
 */
import { CampaignError } from './campaign-errors';

/** Day/month/year or month/day/year. */
export type DateOrder = 'dmy' | 'mdy';

/** A Scheduled at cell with its row, for messages. */
export interface DateCell {
  rowNumber: number;
  text: string;
}

/** The order used for a file, and why (shown to the user when the file has dates that could be read either way). */
export interface DateOrderDecision {
  order: DateOrder;
  reason: string;
  /** True when some slash dates in the file could be read either way. */
  ambiguous: boolean;
}

const SLASH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})(?=$|[ T,])(.*)$/;

function slashParts(text: string): { a: number; b: number; year: string; rest: string } | undefined {
  const m = SLASH_DATE.exec(text.trim());
  if (!m) return undefined;
  return { a: Number(m[1]), b: Number(m[2]), year: m[3]!, rest: m[4]! };
}

const ORDER_WORDS: Record<DateOrder, string> = { dmy: 'day/month', mdy: 'month/day' };

/** Decides how the file's slash dates are read. */
export function decideDateOrder(cells: DateCell[], delimiter: ',' | ';', flag?: DateOrder): DateOrderDecision {
  let dayFirst: DateCell | undefined;
  let monthFirst: DateCell | undefined;
  let ambiguous = false;
  for (const cell of cells) {
    const p = slashParts(cell.text);
    if (!p) continue;
    if (p.a > 12 && p.b > 12)
      throw new CampaignError(
        `Row ${cell.rowNumber}, Scheduled at: "${cell.text.trim()}" is not a date (neither ${p.a} nor ${p.b} can be a month). Write it as 2025-06-01 09:30.`,
      );
    if (p.a > 12) dayFirst ??= cell;
    else if (p.b > 12) monthFirst ??= cell;
    else if (p.a !== p.b) ambiguous = true;
  }
  if (flag)
    return {
      order: flag,
      reason: `Dates with slashes are read ${ORDER_WORDS[flag]} (--date-order ${flag}).`,
      ambiguous,
    };
  if (dayFirst && monthFirst) {
    throw new CampaignError(
      `The file mixes date orders: row ${dayFirst.rowNumber} has "${dayFirst.text.trim()}" (day/month) and row ${monthFirst.rowNumber} has "${monthFirst.text.trim()}" (month/day). Write every date one way (2025-06-01 09:30 is never ambiguous).`,
    );
  }
  if (dayFirst)
    return {
      order: 'dmy',
      reason: `Dates with slashes are read day/month, as row ${dayFirst.rowNumber} ("${dayFirst.text.trim()}") shows (--date-order mdy to change).`,
      ambiguous,
    };
  if (monthFirst)
    return {
      order: 'mdy',
      reason: `Dates with slashes are read month/day, as row ${monthFirst.rowNumber} ("${monthFirst.text.trim()}") shows (--date-order dmy to change).`,
      ambiguous,
    };
  return delimiter === ';'
    ? {
        order: 'dmy',
        reason:
          'Dates with slashes are read day/month: the file is separated by semicolons, as Excel writes it in day-first locales (--date-order mdy to change).',
        ambiguous,
      }
    : {
        order: 'mdy',
        reason:
          'Dates with slashes are read month/day, as the sheet contract reads them (--date-order dmy for day/month).',
        ambiguous,
      };
}

/**
 * Rewrites a slash date as year-month-day in the decided order, keeping the time as written; other cells are returned
 * unchanged (the service reads and checks them). A date impossible in that order is refused with its row.
 */
export function rewriteSlashDate(cell: DateCell, order: DateOrder): string {
  const p = slashParts(cell.text);
  if (!p) return cell.text;
  const [day, month] = order === 'dmy' ? [p.a, p.b] : [p.b, p.a];
  if (month < 1 || month > 12 || day < 1 || day > 31) {
    throw new CampaignError(
      `Row ${cell.rowNumber}, Scheduled at: "${cell.text.trim()}" is not a date when read ${ORDER_WORDS[order]}. Fix the date, or pass --date-order ${order === 'dmy' ? 'mdy' : 'dmy'} if the file writes dates the other way.`,
    );
  }
  const year = p.year.length === 2 ? `20${p.year}` : p.year;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${year}-${pad(month)}-${pad(day)}${p.rest}`;
}
