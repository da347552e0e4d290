import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { ACCOUNTS, fakeApiKey, HEADER, startKit, WS, type Kit } from './publish-test-kit';
import { KeyVault } from '../../src/runs/key-vault';
import { systemClock } from '../../src/clock';
import { planRun } from '../../src/runs/dry-run-service';
import { tenantIdFor } from '../../src/runs/idempotency-key';
import { UNSERIALISABLE, type PostatoWriter } from '../../src/runs/publish-step';
import type { DryRunResponse, RunMode, RunRequest } from '../../appsscript/shared/contract';
import { SHARED_SECRET_SUBJECT } from '../../src/http/auth';
import { inspectLedgerDb } from '../../src/ledger/run-ledger';

/** Valid JSON of 24,000 nested arrays in under 50,000 characters: parses, but cannot be serialised again. */
const DEEP_OPTIONS = `{"a":${'['.repeat(24_000)}${']'.repeat(24_000)}}`;

/** A nested JS value as deep as DEEP_OPTIONS, built without recursion. */
function deepValue(levels: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < levels; i++) v = [v];
  return { a: v };
}

function requestOf(mode: RunMode, rows: { key: string; options?: string }[], spreadsheetId: string): RunRequest {
  return {
    mode,
    spreadsheetId,
    sheetName: 'Posts',
    sheetId: 0,
    spreadsheetTimeZone: 'America/New_York',
    workspaceId: WS,
    header: HEADER,
    rows: rows.map((r, i) => {
      const byCol: Record<string, string> = {
        Key: r.key,
        Platform: 'x',
        Account: ACCOUNTS[i % ACCOUNTS.length]!.id,
        Content: `Post for ${r.key}`,
        Options: r.options ?? '',
      };
      return { rowNumber: i + 2, values: HEADER.map((h) => byCol[h] ?? '') };
    }),
  };
}

function post(kit: Kit, body: RunRequest, apiKey: string): request.Test {
  return request(kit.service.app)
    .post('/v1/runs')
    .set('X-Shared-Secret', kit.secret)
    .set('X-User-Id', 'manager')
    .set('X-Postato-Api-Key', apiKey)
    .send(body);
}

describe('every row ends: a poison row is INVALID before Publish, and FAILED (never retried for ever) past it', () => {
  let kit: Kit;
  const apiKey = fakeApiKey();
  beforeAll(async () => {
    kit = await startKit({ env: { POSTATO_MAX_ATTEMPTS: '3' } });
  });
  afterAll(() => kit.close());

  it('when the Options cell is deeply nested JSON under the cell limit, then the dry run marks the row INVALID and says what to fix', async () => {
    expect(DEEP_OPTIONS.length).toBeLessThan(50_000);
    const deep = await post(
      kit,
      requestOf('dry-run', [{ key: 'deep', options: DEEP_OPTIONS }, { key: 'fine' }], 'sheet-poison-dry'),
      apiKey,
    );
    expect(deep.status).toBe(200);
    const [verdict, fine] = (deep.body as DryRunResponse).rows;
    expect(fine?.status).toBe('READY');
    expect(verdict!.status).toBe('INVALID');
    expect(verdict!.messages.map((m) => m.message)).toContain(
      'Options: nests objects or arrays more than 8 levels deep: write a flat object such as {"privacy":"public"}.',
    );
  });

  it('when such a row is published, then Publish answers 202, the row ends INVALID with the message and the run ends', async () => {
    const body = requestOf('publish', [{ key: 'p-deep', options: DEEP_OPTIONS }, { key: 'p-fine' }], 'sheet-poison');
    const res = await post(kit, body, apiKey);
    expect(res.status).toBe(202);
    const done = await kit.waitDone(res.body.runId);
    expect(done.state).toBe('done');
    const results = await kit.results(res.body.runId);
    expect(results.get('p-deep')).toMatchObject({ status: 'INVALID', error: expect.stringContaining('levels deep') });
    expect(results.get('p-fine')?.status).toBe('SCHEDULED');
  });

  it('when a plan that skipped validation carries an unserialisable body, then starting the run does not throw and the row ends FAILED', async () => {
    const body = requestOf('publish', [{ key: 'f-deep', options: '{"x":1}' }], 'sheet-poison-forced');
    const planned = await planRun(body, {
      clock: systemClock,
      defaults: { minGapMinutes: 15, jitterSeconds: 90, createLimit: 30, windowMs: 1000 },
    });
    planned.rows[0]!.body!.options = deepValue(24_000) as Record<string, unknown>;
    const accepted = await kit.service.runs.startRun({
      identity: { subject: SHARED_SECRET_SUBJECT, via: 'secret', isAdmin: false },
      request: body,
      apiKey,
      planned,
    });
    const done = await kit.waitDone(accepted.runId);
    expect(done.state).toBe('done');
    expect((await kit.results(accepted.runId)).get('f-deep')).toMatchObject({
      status: 'FAILED',
      error: UNSERIALISABLE,
    });
  });

  it('when the ledger holds a row whose stored body cannot be serialised, then the dispatcher fails it at once and the run ends', async () => {
    const { runId } = await kit.service.ledger.createRun({
      ownerSubject: SHARED_SECRET_SUBJECT,
      mode: 'publish',
      spreadsheetId: 'sheet-poison-ledger',
      sheetName: 'Posts',
      sheetId: 0,
      workspaceId: WS,
      tenantId: tenantIdFor(apiKey),
      apiKeySealed: new KeyVault(kit.config.KEY_ENCRYPTION_KEY!).encrypt(apiKey),
      rows: [
        {
          rowKey: 'l-deep',
          rowNumber: 2,
          kind: 'create',
          state: 'pending',
          bodyJson: `{"platform":"twitter","accountId":"acc_x0","status":"scheduled","postType":"tweet","content":"x","options":${DEEP_OPTIONS}}`,
          writeBack: false,
        },
      ],
    });
    kit.service.dispatcher.kick();
    const done = await kit.waitDone(runId);
    expect(done.state).toBe('done');
    expect((await kit.results(runId)).get('l-deep')).toMatchObject({ status: 'FAILED', error: UNSERIALISABLE });
    // Nothing was sent: no attempt was recorded for a body that could not be built.
    const attempts = await inspectLedgerDb(kit.service.ledger)
      .selectFrom('attempts')
      .selectAll()
      .where('run_id', '=', runId)
      .execute();
    expect(attempts).toHaveLength(0);
  });
});

describe('every row ends: any error inside the publish step counts as an attempt', () => {
  it('when sending a row throws an unexpected error every time, then it ends FAILED after POSTATO_MAX_ATTEMPTS tries with a message and the run ends', async () => {
    let calls = 0;
    const broken: PostatoWriter = {
      createPost: () => {
        calls++;
        throw new TypeError('boom inside the client');
      },
      getPost: () => Promise.reject(new TypeError('boom')),
      updatePost: () => Promise.reject(new TypeError('boom')),
      cancelPost: () => Promise.reject(new TypeError('boom')),
    };
    const kit = await startKit({ env: { POSTATO_MAX_ATTEMPTS: '3' }, overrides: { clientFor: () => broken } });
    try {
      const res = await post(
        kit,
        requestOf('publish', [{ key: 'e1' }], `sheet-${randomBytes(3).toString('hex')}`),
        fakeApiKey(),
      );
      expect(res.status).toBe(202);
      const done = await kit.waitDone(res.body.runId);
      expect(done.state).toBe('done');
      expect(done.counts).toMatchObject({ failed: 1, pending: 0 });
      const result = (await kit.results(res.body.runId)).get('e1')!;
      expect(result.status).toBe('FAILED');
      expect(result.error).toMatch(/^Sending this row failed unexpectedly \(TypeError\): check its cells/);
      expect(result.error).toContain('Gave up after 3 tries');
      expect(result.error).not.toContain('boom');
      expect(calls).toBe(3);
    } finally {
      await kit.close();
    }
  });

  it('when the step itself throws outside a Postato call every time, then the row ends FAILED after POSTATO_MAX_ATTEMPTS', async () => {
    const kit = await startKit({ env: { POSTATO_MAX_ATTEMPTS: '2' } });
    const ledger = kit.service.ledger;
    // The ledger lookup before every create fails, as a bug or bad data outside the Postato call would.
    const original = ledger.knownPost.bind(ledger);
    let thrown = 0;
    ledger.knownPost = () => {
      thrown++;
      return Promise.reject(new RangeError('Maximum call stack size exceeded'));
    };
    try {
      const res = await post(kit, requestOf('publish', [{ key: 's1' }], 'sheet-step-throws'), fakeApiKey());
      expect(res.status).toBe(202);
      const done = await kit.waitDone(res.body.runId);
      expect(done.state).toBe('done');
      const result = (await kit.results(res.body.runId)).get('s1')!;
      expect(result.status).toBe('FAILED');
      expect(result.error).toMatch(/^The service could not send this row \(an unexpected RangeError, 2 tries\)/);
      expect(thrown).toBe(2);
    } finally {
      ledger.knownPost = original;
      await kit.close();
    }
  });
});
