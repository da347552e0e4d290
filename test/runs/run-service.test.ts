/**
 * The run service on its own (src/runs/run-service.ts): a real SQLite ledger, the real planner's output and key vault,
 * a manual clock. What it commits per mode, who may see and cancel a run, and what a status answer carries.
 */
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { NotFoundError } from '../../src/errors';
import { openLedger, type OpenedLedger } from '../../src/ledger/open-ledger';
import { inspectLedgerDb } from '../../src/ledger/run-ledger';
import { planSheet, type PlanDefaults } from '../../src/plan/sheet-planner';
import { tenantIdFor } from '../../src/runs/idempotency-key';
import type { Identity } from '../../src/runs/identity';
import { KeyVault } from '../../src/runs/key-vault';
import { createRunService, type RunService } from '../../src/runs/run-service';
import type { RunMode, RunRequest } from '../../appsscript/shared/contract';
import { HEADER, WS, fakeApiKey, rowsOf, tempDbFile, type KitRow } from './publish-test-kit';

const NOW = Date.parse('2030-06-01T12:00:00Z');
const DEFAULTS: PlanDefaults = { minGapMinutes: 0, jitterSeconds: 0, createLimit: 30, windowMs: 60_000 };
const owner: Identity = { subject: 'google:owner', via: 'google', isAdmin: false };
const stranger: Identity = { subject: 'google:stranger', via: 'google', isAdmin: false };
const admin: Identity = { subject: 'google:admin', via: 'google', isAdmin: true };

describe('run service', () => {
  let opened: OpenedLedger;
  let clock: ManualClock;
  let service: RunService;
  let committed: string[];
  const vault = new KeyVault(randomBytes(32).toString('base64'));
  const apiKey = fakeApiKey();

  beforeEach(async () => {
    clock = new ManualClock(NOW);
    opened = await openLedger(`sqlite:${tempDbFile()}`, clock);
    committed = [];
    service = createRunService({
      ledger: opened.ledger,
      vault,
      clock,
      logger: silentLogger,
      planDefaults: DEFAULTS,
      createLimit: 30,
      windowMs: 60_000,
      onRunCommitted: (runId) => committed.push(runId),
    });
  });
  afterEach(() => opened.close());

  /** A request for `rows` and its plan, as the runs route builds them. */
  function requestFor(mode: RunMode, rows: KitRow[], onlyKeys?: string[]) {
    const request: RunRequest = {
      mode,
      spreadsheetId: 'sheet-svc',
      sheetName: 'Posts',
      sheetId: 3,
      spreadsheetTimeZone: 'America/New_York',
      workspaceId: WS,
      header: HEADER,
      rows: rowsOf(rows),
      ...(onlyKeys ? { onlyKeys } : {}),
    };
    const planned = planSheet({
      request,
      nowMs: NOW,
      defaults: DEFAULTS,
      accounts: null,
      scheduledPosts: null,
      knownPosts: new Map(),
    });
    return { identity: owner, request, apiKey, planned };
  }

  const rowsOfRun = (runId: string) =>
    inspectLedgerDb(opened.ledger)
      .selectFrom('run_rows')
      .select(['row_key', 'kind', 'state', 'sheet_status', 'post_id', 'body_json', 'error'])
      .where('run_id', '=', runId)
      .orderBy('row_number')
      .execute();

  it('publish: valid rows are committed to send, invalid ones skipped with their reason, rows with a post left alone', async () => {
    const accepted = await service.startRun(
      requestFor('publish', [
        { key: 'new1', scheduledAt: '2030-07-01 10:00' },
        { key: 'long', content: 'y'.repeat(400), scheduledAt: '2030-07-01 11:00' },
        { key: 'done', postId: 'pst_done', scheduledAt: '2030-07-01 12:00' },
      ]),
    );
    expect(committed).toEqual([accepted.runId]);
    expect(accepted.joined).toBe(false);
    const rows = await rowsOfRun(accepted.runId);
    expect(rows.map((r) => [r.row_key, r.kind, r.state])).toEqual([
      ['new1', 'create', 'pending'],
      ['long', 'none', 'skipped'],
      ['done', 'none', 'skipped'],
    ]);
    expect(JSON.parse(rows[0]!.body_json!)).toMatchObject({
      content: 'Post for new1',
      scheduledAt: '2030-07-01T14:00:00Z',
    });
    expect(rows[1]).toMatchObject({ sheet_status: 'INVALID', error: expect.stringMatching(/280|long/i) });
    expect(rows[2]).toMatchObject({ post_id: 'pst_done' });
    // The run belongs to the caller and the key's tenant; the key is kept only sealed.
    const run = (await opened.ledger.getRun(accepted.runId))!;
    expect(run).toMatchObject({ owner_subject: owner.subject, tenant_id: tenantIdFor(apiKey), state: 'running' });
    expect(run.api_key_sealed).not.toContain(apiKey.slice(5));
    expect(vault.decrypt(run.api_key_sealed!)).toBe(apiKey);
  });

  it('unschedule with chosen keys: only those rows that have a post become cancels', async () => {
    const accepted = await service.startRun(
      requestFor(
        'unschedule',
        [
          { key: 'a', postId: 'pst_a', scheduledAt: '2030-07-01 10:00' },
          { key: 'b', postId: 'pst_b', scheduledAt: '2030-07-01 11:00' },
          { key: 'c', scheduledAt: '2030-07-01 12:00' },
        ],
        ['b', 'c'],
      ),
    );
    const rows = await rowsOfRun(accepted.runId);
    expect(rows.map((r) => [r.row_key, r.kind, r.state, r.post_id])).toEqual([['b', 'cancel', 'pending', 'pst_b']]);
  });

  it('status: the owner and admins see a run with its ETA; anyone else gets the 404 of a missing run', async () => {
    const { runId } = await service.startRun(
      requestFor(
        'publish',
        Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, scheduledAt: `2030-07-0${1 + (i % 9)} 1${i % 10}:00` })),
      ),
    );
    const status = await service.getStatus(owner, runId);
    expect(status).toMatchObject({ runId, mode: 'publish', state: 'running', sheetName: 'Posts' });
    expect(status.counts).toMatchObject({ total: 40, pending: 40 });
    // 30 go at once, the other 10 one window later: 60 s, plus 50 ms per row.
    expect(status.etaSeconds).toBe(62);
    expect(status.report).toBeUndefined();
    expect((await service.getStatus(admin, runId)).runId).toBe(runId);
    await expect(service.getStatus(stranger, runId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.getStatus(owner, 'run_missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.assertVisible(stranger, runId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('cancel: only a caller who may see the run can cancel it; its unsent rows are skipped and the answer carries the report', async () => {
    const { runId } = await service.startRun(
      requestFor('publish', [
        { key: 'x1', scheduledAt: '2030-07-01 10:00' },
        { key: 'x2', scheduledAt: '2030-07-01 11:00' },
      ]),
    );
    await expect(service.cancel(stranger, runId)).rejects.toBeInstanceOf(NotFoundError);
    expect((await opened.ledger.getRun(runId))!.state).toBe('running');

    clock.advance(2500);
    const cancelled = await service.cancel(owner, runId);
    expect(cancelled).toMatchObject({
      state: 'cancelled',
      etaSeconds: 0,
      finishedAt: new Date(NOW + 2500).toISOString(),
    });
    expect(cancelled.counts).toMatchObject({ total: 2, pending: 0, skipped: 2 });
    expect(cancelled.report).toMatchObject({ runId, state: 'cancelled', durationSeconds: 2.5 });
    expect(cancelled.results.map((r) => [r.key, r.status])).toEqual([
      ['x1', 'SKIPPED'],
      ['x2', 'SKIPPED'],
    ]);
    // Cancelling again changes nothing.
    expect((await service.cancel(owner, runId)).counts).toEqual(cancelled.counts);
  });
});
