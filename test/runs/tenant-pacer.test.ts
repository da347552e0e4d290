/** The in-memory pacer against the shared contract, plus the limit arithmetic and the config mapping. */
import { loadConfig } from '../../src/config';
import {
  createMemoryPacer,
  effectiveLimit,
  pacerLimitsFromConfig,
  slidingLogDecision,
} from '../../src/pacing/tenant-pacer';
import { describePacerContract, TEST_LIMITS } from './tenant-pacer-contract';

describePacerContract('memory', (clock, limits = TEST_LIMITS) => createMemoryPacer({ limits, clock }));

describe('effectiveLimit', () => {
  test('when the limit is 120 per 60 s with a 2 % margin, then 117 sends may go per 60.6 s (1 % of W for time)', () => {
    const rule = effectiveLimit({ ...TEST_LIMITS, create: { limit: 120, windowMs: 60_000 } }, 'create');
    expect(rule).toEqual({ max: 117, spanMs: 60_600 });
  });

  test('when the window is short, then the time margin is still at least 50 ms and the limit at least 1', () => {
    const rule = effectiveLimit({ ...TEST_LIMITS, write: { limit: 1, windowMs: 200 }, safetyMargin: 0.5 }, 'write');
    expect(rule).toEqual({ max: 1, spanMs: 250 });
  });

  test('when the log is full, then the slot frees as the (n − max)-th oldest send leaves the span', () => {
    expect(slidingLogDecision([0, 10, 20, 30], 40, { max: 3, spanMs: 100 })).toEqual({ ok: false, retryAtMs: 110 });
    expect(slidingLogDecision([0, 10], 40, { max: 3, spanMs: 100 })).toEqual({ ok: true });
  });

  test('when the blocking send is still in flight (stamped ahead), then the slot frees no sooner than a span from now', () => {
    expect(slidingLogDecision([30, 60, 70], 40, { max: 2, spanMs: 100 })).toEqual({ ok: false, retryAtMs: 140 });
  });
});

describe('pacerLimitsFromConfig', () => {
  test('when settings are given, then create, write and margin come from POSTATO_* keys', () => {
    const config = loadConfig({
      POSTATO_CREATE_LIMIT: '30',
      POSTATO_UPDATE_LIMIT: '20',
      POSTATO_WINDOW_MS: '2000',
      POSTATO_SAFETY_MARGIN: '0.05',
    });
    expect(pacerLimitsFromConfig(config)).toEqual({
      create: { limit: 30, windowMs: 2000 },
      write: { limit: 20, windowMs: 2000 },
      safetyMargin: 0.05,
      maxFlightMs: 15_000,
    });
  });

  test('when nothing is set, then the documented 120 per 60 s with a 2 % margin applies', () => {
    expect(pacerLimitsFromConfig(loadConfig({}))).toEqual({
      create: { limit: 120, windowMs: 60_000 },
      write: { limit: 120, windowMs: 60_000 },
      safetyMargin: 0.02,
      maxFlightMs: 15_000,
    });
  });
});
