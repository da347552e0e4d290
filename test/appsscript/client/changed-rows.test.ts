import { changedRowsLine, rowTag } from '../../../appsscript/client/changed-rows';

describe('sidebar changed rows', () => {
  it('when rows changed, the summary says how many and points to Reschedule changed rows', () => {
    expect(changedRowsLine({ changed: 1 })).toBe(
      '1 row changed since its post was sent: press Reschedule changed rows to update it in Postato.',
    );
    expect(changedRowsLine({ changed: 3 })).toMatch(
      /^3 rows changed since their posts were sent: press Reschedule changed rows/,
    );
  });

  it('when no row changed, there is no line', () => {
    expect(changedRowsLine({})).toBeNull();
    expect(changedRowsLine({ changed: 0 })).toBeNull();
  });

  it('tags a changed row CHANGED unless it has a warning or an error to show', () => {
    expect(rowTag({ status: 'READY', changed: true })).toBe('CHANGED');
    expect(rowTag({ status: 'READY' })).toBe('READY');
    expect(rowTag({ status: 'WARNING', changed: true })).toBe('WARNING');
  });
});
