import {
  countPhrases,
  moreFailedLine,
  reportDuration,
  reportSentence,
  rowLine,
} from '../../../appsscript/shared/report-format';
import { reportAnswer } from '../fakes/sample-sheet';

describe('report sentences', () => {
  it('say how the run ended, how long it took and what it did', () => {
    const report = reportAnswer('run_1');
    expect(reportSentence(report)).toBe(
      'Publish of “Posts” finished in 12 seconds: 2 posts created, 2 rows failed, 1 skipped.',
    );
    expect(reportSentence({ ...report, state: 'cancelled', durationSeconds: 0.3 })).toBe(
      'Publish of “Posts” was cancelled after under a second: 2 posts created, 2 rows failed, 1 skipped.',
    );
    expect(reportSentence({ ...report, state: 'failed', mode: 'unschedule' })).toMatch(
      /^Unschedule of “Posts” stopped on a service error after 12 seconds: 2 posts cancelled/,
    );
  });

  it('count each row once: a post that failed after creation is named apart from the rows that failed', () => {
    expect(
      countPhrases({
        mode: 'publish',
        counts: { total: 5, pending: 0, sent: 4, created: 3, failed: 1, skipped: 1 },
        failedTotal: 2,
      }),
    ).toEqual(['3 posts created', '1 row failed', '1 failed after creation (delivery or review)', '1 skipped']);
    expect(
      countPhrases({
        mode: 'publish',
        counts: { total: 2, pending: 0, sent: 2, created: 1, failed: 1, skipped: 0 },
        failedTotal: 1,
      }),
    ).toEqual(['1 post created', '1 row failed']);
  });

  it('count each row once: rows without a post are counted as skipped or failed, never both', () => {
    expect(
      countPhrases({ mode: 'publish', counts: { total: 4, pending: 0, sent: 3, created: 3, failed: 0, skipped: 1 } }),
    ).toEqual(['3 posts created', '1 skipped']);
    expect(
      countPhrases({
        mode: 'reschedule',
        counts: { total: 3, pending: 1, sent: 1, created: 1, failed: 1, skipped: 0 },
      }),
    ).toEqual(['1 post rescheduled', '1 row failed', '1 not sent']);
  });

  it('name a row by number, or by key once it left the sheet, and count what the list leaves out', () => {
    expect(rowLine({ key: 'r-1', rowNumber: 4, message: 'Refused.' })).toBe('Row 4: Refused.');
    expect(rowLine({ key: 'r-1', rowNumber: null, message: 'Refused.' })).toBe('Key r-1: Refused.');
    expect(moreFailedLine({ failed: [], failedTotal: 0 })).toBeNull();
    expect(moreFailedLine({ failed: [{ key: 'a', rowNumber: 2, message: 'x' }], failedTotal: 2 })).toBe(
      '…and 1 more row; the Status and Error columns show every one.',
    );
    expect(reportDuration(125)).toBe('2 minutes');
  });
});
