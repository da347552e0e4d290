import { countsLine, percentDone, stateLine } from '../../../appsscript/client/progress';
import type { RunCounts } from '../../../appsscript/shared/contract';

const counts = (c: Partial<RunCounts>): RunCounts => ({
  total: 143,
  pending: 0,
  sent: 0,
  created: 0,
  failed: 0,
  skipped: 0,
  ...c,
});

describe('sidebar progress', () => {
  it('counts created, failed and skipped rows as done, and only an ended run as 100 %', () => {
    expect(percentDone({ state: 'running', counts: counts({ created: 50, failed: 2 }) })).toBe(36);
    expect(percentDone({ state: 'running', counts: counts({ created: 143 }) })).toBe(99);
    expect(percentDone({ state: 'done', counts: counts({ created: 10 }) })).toBe(100);
    expect(percentDone({ state: 'queued', counts: counts({ total: 0 }) })).toBe(0);
  });

  it('describes counts, time left and the end of a run in sentences', () => {
    expect(countsLine({ counts: counts({ created: 50, failed: 2 }) })).toBe('52 of 143 done · 50 created · 2 failed');
    expect(stateLine({ state: 'running', counts: counts({}), etaSeconds: 40 })).toBe('About 40 seconds left.');
    expect(stateLine({ state: 'running', counts: counts({}), etaSeconds: 480 })).toBe('About 8 minutes left.');
    expect(stateLine({ state: 'done', counts: counts({ created: 141, failed: 2 }) })).toMatch(
      /141 posts created, 2 failed\. Fix the failed rows/,
    );
    expect(stateLine({ state: 'cancelled', counts: counts({ created: 1 }) })).toBe(
      'Cancelled. 1 post had been created and stay scheduled.',
    );
  });
});
