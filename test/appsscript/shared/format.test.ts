import { formatDuration, plural, rowList } from '../../../appsscript/shared/format';

describe('shared text helpers', () => {
  it('rowList names rows for people, joining consecutive ones and ignoring order and repeats', () => {
    expect(rowList([4])).toBe('row 4');
    expect(rowList([3, 2])).toBe('rows 2–3');
    expect(rowList([7, 2, 3, 4, 3])).toBe('rows 2–4 and 7');
    expect(rowList([2, 5, 9, 10])).toBe('rows 2, 5 and 9–10');
  });

  it('plural and formatDuration say numbers the same way on both sides', () => {
    expect(plural(1, 'file')).toBe('1 file');
    expect(plural(2, 'file')).toBe('2 files');
    expect(formatDuration(45)).toBe('45 seconds');
    expect(formatDuration(3 * 60 * 60 + 20 * 60)).toBe('3 h 20 min');
  });
});
