/**
 * A create whose lease runs out while its call is in flight, on both ledger dialects: worker A's call reaches the
 * Postato sandbox and its answer is held; worker B takes the row over (the lease expired) and replays A's in-doubt
 * attempt, which Postato refuses with 409 idempotency_key_in_use (A's request still in flight there); A then records
 * its post; only then does B learn of its error. The row must stay `created` with A's post (not be put back to send
 * and later end `skipped`, nor end `failed`), and the sandbox must hold one post for the row.
 */
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { createMetrics, type Metrics } from '../../src/metrics';
import type { LedgerDb } from '../../src/ledger/ledger-db';
import { RunLedger, type RunRowRecord } from '../../src/ledger/run-ledger';
import { createMemoryPacer, type TenantPacer } from '../../src/pacing/tenant-pacer';
import { PostatoClient } from '../../src/postato/postato-client';
import { errorFromResponse } from '../../src/postato/postato-errors';
import { startPostatoSandbox, type PostatoSandbox } from '../../src/sandbox/postato-sandbox';
import { KeyVault } from '../../src/runs/key-vault';
import { createPublishStep, type PostatoWriter, type PublishStep } from '../../src/runs/publish-step';
import type { TierName } from '../contract/tier-kit';
import { ACCOUNTS, WS, fakeApiKey } from '../runs/publish-test-kit';
import { openLedgerDbOn } from './ledger-fixtures';

const TENANT = 'tnt_takeover';
const LEASE_MS = 2000;

/** A promise and its resolver, to hold one side of the interleaving until the test lets it go on. */
function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

describe.each<TierName>(['embedded', 'scale-out'])('a create taken over after its lease ran out (%s)', (tier) => {
  let sandbox: PostatoSandbox;
  let handle: LedgerDb;
  let drop: () => Promise<void>;
  const vault = new KeyVault(randomBytes(32).toString('base64'));

  beforeAll(async () => {
    sandbox = await startPostatoSandbox({
      settings: { accounts: ACCOUNTS, limits: { create: 1000, write: 1000, read: 1000, windowMs: 60_000 } },
      tickIntervalMs: 0,
    });
    ({ handle, drop } = await openLedgerDbOn(tier === 'scale-out' ? 'postgres' : 'sqlite'));
  });
  afterAll(async () => {
    await handle?.close();
    await drop?.();
    await sandbox?.close();
  });

  function stepOf(
    ledger: RunLedger,
    clock: ManualClock,
    pacer: TenantPacer,
    writer: PostatoWriter,
    maxAttempts: number,
    metrics?: Metrics,
  ) {
    return createPublishStep({
      metrics,
      ledger,
      pacer,
      vault,
      clock,
      logger: silentLogger,
      clientFor: () => writer,
      maxAttempts,
      backoffBaseMs: 100,
      backoffCapMs: 100,
      random: () => 0,
    });
  }

  it.each([
    ['retries left, so B gives the row back to send', 3],
    ['no retry left, so B fails the row', 1],
  ])(
    'when B learns of its 409 after A recorded the post (%s), then the row stays created with A’s post',
    async (_case, bMaxAttempts) => {
      const clock = new ManualClock(Date.parse('2030-06-01T12:00:00Z') + bMaxAttempts * 3_600_000);
      const ledger = new RunLedger(handle.db, clock);
      const pacer = createMemoryPacer({
        clock,
        limits: {
          create: { limit: 100, windowMs: 60_000 },
          write: { limit: 100, windowMs: 60_000 },
          safetyMargin: 0.02,
          maxFlightMs: 5000,
        },
      });
      const apiKey = fakeApiKey();
      const rowKey = `row-${bMaxAttempts}`;
      const spreadsheetId = `sheet-${randomBytes(4).toString('hex')}`;
      await ledger.createRun({
        ownerSubject: 'manager',
        mode: 'publish',
        spreadsheetId,
        sheetName: 'Posts',
        sheetId: 0,
        workspaceId: WS,
        tenantId: TENANT,
        apiKeySealed: vault.encrypt(apiKey),
        rows: [
          {
            rowKey,
            rowNumber: 2,
            kind: 'create',
            state: 'pending',
            bodyJson: JSON.stringify({
              platform: 'twitter',
              accountId: ACCOUNTS[0]!.id,
              status: 'scheduled',
              postType: 'tweet',
              content: `takeover ${bMaxAttempts}`,
              scheduledAt: '2031-03-01T15:00:00.000Z',
            }),
            writeBack: false,
          },
        ],
      });

      // A: the real client; Postato stores the post, and A's answer is held until the test lets it through.
      const real = new PostatoClient({ baseUrl: sandbox.url, apiKey, timeoutMs: 10_000, retry: { maxAttempts: 1 } });
      const aAnswered = gate();
      const aMayGoOn = gate();
      const writerA: PostatoWriter = {
        createPost: async (...args) => {
          const answer = await real.createPost(...args);
          aAnswered.open();
          await aMayGoOn.promise;
          return answer;
        },
        getPost: (...args) => real.getPost(...args),
        updatePost: (...args) => real.updatePost(...args),
        cancelPost: (...args) => real.cancelPost(...args),
      };
      // B: replays A's key while A's request is in flight at Postato, which answers 409 idempotency_key_in_use (the
      // sandbox's answer, mapped by the client's own error mapping); B hears of it only when the test lets it.
      const bCalled = gate<string>();
      const bMayGoOn = gate();
      const writerB: PostatoWriter = {
        createPost: async (_ws, _body, key) => {
          bCalled.open(key);
          await bMayGoOn.promise;
          throw errorFromResponse({
            method: 'POST',
            path: `/v1/workspaces/${WS}/posts`,
            status: 409,
            bodyText: JSON.stringify({
              error: 'idempotency_key_in_use',
              message: 'A request with this Idempotency-Key is still in flight; retry later with the same key.',
            }),
            retryAfterMs: 1000,
            apiKey,
          });
        },
        getPost: (...args) => real.getPost(...args),
        updatePost: (...args) => real.updatePost(...args),
        cancelPost: (...args) => real.cancelPost(...args),
      };
      const stepA = stepOf(ledger, clock, pacer, writerA, 3);
      const metricsB = createMetrics();
      const stepB: PublishStep = stepOf(ledger, clock, pacer, writerB, bMaxAttempts, metricsB);

      const rowA = (await ledger.claimNext(TENANT, 'worker-a', clock.now(), LEASE_MS)) as RunRowRecord;
      expect(rowA).toBeTruthy();
      const doneA = stepA.processRow(rowA);
      await aAnswered.promise;

      // A's lease runs out while its answer is on the way: B takes the row over and replays A's attempt.
      clock.advance(LEASE_MS + 1);
      const rowB = (await ledger.claimNext(TENANT, 'worker-b', clock.now(), LEASE_MS)) as RunRowRecord;
      expect(rowB?.id).toBe(rowA.id);
      const doneB = stepB.processRow(rowB);
      const replayedKey = await bCalled.promise;

      // A's answer arrives and A records the post; only then does B hear its 409.
      aMayGoOn.open();
      expect(await doneA).toMatchObject({ kind: 'finished' });
      bMayGoOn.open();
      await doneB;

      // Whatever claims the row next (the scale-out sweep re-adds every row still to send as a job) finds nothing.
      clock.advance(60_000);
      const again = await ledger.claimNext(TENANT, 'worker-c', clock.now(), LEASE_MS);
      if (again) await stepB.processRow(again);

      const posts = sandbox.inspect().posts.filter((p) => p.idempotencyKey === replayedKey);
      expect(posts).toHaveLength(1);
      const post = posts[0];
      const row = await ledger.getRow(rowA.id);
      expect({ state: row?.state, postId: row?.post_id, sheetStatus: row?.sheet_status, error: row?.error }).toEqual({
        state: 'created',
        postId: post?.id,
        sheetStatus: 'SCHEDULED',
        error: '',
      });
      expect(await ledger.counts(rowA.run_id)).toMatchObject({
        total: 1,
        created: 1,
        failed: 0,
        pending: 0,
        skipped: 0,
      });
      expect(again).toBeNull();
      // B's late 409 did not put its replay, resolved by A's success, back in doubt: no later run replays it.
      expect(
        await ledger.unresolvedCreate({ tenantId: TENANT, workspaceId: WS }, spreadsheetId, rowKey),
      ).toBeUndefined();
      // B's failure was not recorded (the row had left its claim), so it is not counted as one either.
      expect((await metricsB.postsFailed.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
      await pacer.close();
    },
  );
});
