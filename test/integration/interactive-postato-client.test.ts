/**
 * The interactive Postato client of buildService (accounts, the dry run's checks) uses the service's logger and clock,
 * as the dispatch client does: its retries are logged, and its retry window is measured by the injected clock. A
 * scripted Postato on 127.0.0.1 answers GET accounts; the service runs on a real SQLite file.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { systemClock, type Clock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { buildService, type Service } from '../../src/service';
import { startScriptedServer, type ScriptedAnswer, type ScriptedServer } from '../postato/scripted-server';
import { fakeApiKey, kitEnv, tempDbFile } from '../runs/publish-test-kit';

const WS = 'wks_interactive';
const ACCOUNTS = { items: [{ id: 'acc_1', platform: 'x', username: 'brand', status: 'connected' }] };

describe('the interactive Postato client of the service', () => {
  let postato: ScriptedServer | undefined;
  let service: Service | undefined;
  let dbFile: string;
  const secret = randomBytes(16).toString('hex');
  const lines: Array<Record<string, unknown>> = [];

  /** A service on `answer`'s Postato, logging into `lines`, with `clock`. */
  async function start(answer: (n: number) => ScriptedAnswer, clock: Clock): Promise<Service> {
    postato = await startScriptedServer((_req, n) => answer(n));
    dbFile = tempDbFile();
    const config = loadConfig(kitEnv(postato.url, dbFile, secret));
    const logger = createLogger({
      level: 'info',
      destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
    });
    service = await buildService(config, { logger, clock, startDispatcher: false });
    return service;
  }

  const getAccounts = (s: Service) =>
    request(s.app)
      .get(`/v1/accounts?workspaceId=${WS}`)
      .set('X-Shared-Secret', secret)
      .set('X-User-Id', 'manager')
      .set('X-Postato-Api-Key', fakeApiKey());

  afterEach(async () => {
    await service?.close();
    await postato?.close();
    service = undefined;
    postato = undefined;
    lines.length = 0;
    rmSync(dbFile, { force: true });
  });

  it('when Postato answers 503 once, then the retry is in the service log and the accounts come from the second try', async () => {
    const s = await start(
      (n) => (n === 0 ? { status: 503, body: { error: 'unavailable' } } : { status: 200, body: ACCOUNTS }),
      systemClock,
    );
    const res = await getAccounts(s);
    expect(res.status).toBe(200);
    expect(postato!.requests).toHaveLength(2);
    const retried = lines.filter((l) => l.msg === 'postato call will be retried');
    expect(retried).toEqual([
      expect.objectContaining({
        component: 'postato-client',
        method: 'GET',
        path: `/v1/workspaces/${WS}/accounts`,
        attempt: 1,
        status: 503,
      }),
    ]);
  });

  it('when the injected clock says the retry window has passed, then the call gives up after one try', async () => {
    // Every reading of this clock is a minute and more after the one before: past the 60 s retry window at once.
    let now = Date.now();
    const jumping: Clock = { now: () => (now += 61_000) };
    const s = await start(() => ({ status: 503, body: { error: 'unavailable' } }), jumping);
    const res = await getAccounts(s);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(postato!.requests).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'postato call will be retried')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'postato call gave up')).toEqual([
      expect.objectContaining({ component: 'postato-client', attempt: 1, status: 503 }),
    ]);
  });
});
