/** How the campaign command reads dates written with slashes, and how it writes them for the service. */
import { decideDateOrder, rewriteSlashDate } from '../../src/cli/campaign-dates';

const cells = (...texts: string[]) => texts.map((text, i) => ({ rowNumber: i + 2, text }));

describe('slash dates in a campaign CSV', () => {
  it('a day over 12 in either place decides the order for the whole file', () => {
    expect(decideDateOrder(cells('01/04/2027 09:00', '25/04/2027 09:00'), ',').order).toBe('dmy');
    expect(decideDateOrder(cells('01/04/2027 09:00', '4/25/2027 9:00 PM'), ';').order).toBe('mdy');
  });

  it('without such a date, semicolon files read day/month and comma files month/day, and say so', () => {
    const semi = decideDateOrder(cells('01/04/2027 09:00'), ';');
    expect(semi).toMatchObject({ order: 'dmy', ambiguous: true });
    expect(semi.reason).toContain('semicolons');
    expect(decideDateOrder(cells('01/04/2027 09:00'), ',')).toMatchObject({ order: 'mdy', ambiguous: true });
    // Same day and month, ISO, blanks and words are not ambiguous.
    expect(decideDateOrder(cells('04/04/2027 09:00', '2027-04-01 09:00', '', 'now'), ',').ambiguous).toBe(false);
  });

  it('--date-order wins over the file', () => {
    expect(decideDateOrder(cells('01/04/2027 09:00'), ';', 'mdy').order).toBe('mdy');
  });

  it('rewrites to year-month-day and keeps the time as written (seconds, AM/PM, two-digit years)', () => {
    expect(rewriteSlashDate({ rowNumber: 2, text: '01/04/2027 09:00' }, 'dmy')).toBe('2027-04-01 09:00');
    expect(rewriteSlashDate({ rowNumber: 2, text: '4/1/2027 6:00 PM' }, 'mdy')).toBe('2027-04-01 6:00 PM');
    expect(rewriteSlashDate({ rowNumber: 2, text: '01/04/27 09:00:30' }, 'dmy')).toBe('2027-04-01 09:00:30');
    expect(rewriteSlashDate({ rowNumber: 2, text: '2027-04-01 09:00' }, 'dmy')).toBe('2027-04-01 09:00');
    expect(rewriteSlashDate({ rowNumber: 2, text: '01/04/2027' }, 'dmy')).toBe('2027-04-01');
  });

  it('refuses, naming the row, a date that fits no order or not the chosen one, and files mixing orders', () => {
    expect(() => decideDateOrder(cells('', '13/14/2027 09:00'), ',')).toThrow(/^Row 3, Scheduled at: "13\/14\/2027/);
    expect(() => rewriteSlashDate({ rowNumber: 5, text: '04/25/2027 09:00' }, 'dmy')).toThrow(
      /^Row 5, Scheduled at: .* is not a date when read day\/month.*--date-order mdy/,
    );
    expect(() => decideDateOrder(cells('25/04/2027 09:00', '04/25/2027 09:00'), ',')).toThrow(
      /row 2 has .* \(day\/month\) and row 3 has .* \(month\/day\)/,
    );
  });
});
