import {
  FIRST_POLL_MS,
  MAX_POLL_MS,
  PollSchedule,
  progressFingerprint,
} from '../../../appsscript/client/poll-schedule';
import { statusAnswer } from '../fakes/sample-sheet';

describe('poll schedule', () => {
  it('backs off from 1.5 s to 10 s while nothing changes, and polls every 1.5 s again once something does', () => {
    const schedule = new PollSchedule();
    const quiet = Array.from({ length: 8 }, () => schedule.next(false));
    expect(quiet).toEqual([2250, 3375, 5063, 7595, 10_000, 10_000, 10_000, 10_000]);
    expect(schedule.next(true)).toBe(FIRST_POLL_MS);
    expect(schedule.next(false)).toBe(2250);
  });

  it('after an action it starts again at the shortest delay', () => {
    const schedule = new PollSchedule();
    for (let i = 0; i < 10; i++) schedule.next(false);
    expect(schedule.next(false)).toBe(MAX_POLL_MS);
    schedule.reset();
    expect(schedule.next(false)).toBe(2250);
  });

  it('a 40-minute quiet stretch costs a few hundred polls, not 1,600', () => {
    const schedule = new PollSchedule();
    let elapsed = 0;
    let polls = 0;
    while (elapsed < 40 * 60 * 1000) {
      elapsed += schedule.next(false);
      polls++;
    }
    expect(polls).toBeLessThan(250);
  });

  it('a poll counts as a change when counts, state or results differ', () => {
    const running = statusAnswer('run_1', 'running');
    const same = progressFingerprint(running);
    expect(progressFingerprint({ ...running })).toBe(same);
    expect(progressFingerprint({ ...running, counts: { ...running.counts, created: 4 } })).not.toBe(same);
    expect(progressFingerprint({ ...running, state: 'done' })).not.toBe(same);
    expect(
      progressFingerprint({
        ...running,
        results: [{ key: 'r-1', rowNumber: 2, status: 'SCHEDULED', updatedAt: '2030-01-01T00:00:00Z' }],
      }),
    ).not.toBe(same);
  });
});
