/**
 * Admission of run requests (src/http/run-admission.ts): many Publish requests arriving at once are all accepted,
 * never more than RUN_ACCEPT_CONCURRENCY of them at a time, in arrival order, and a caller who hangs up while waiting
 * leaves the queue at once, while one who hangs up once admitted keeps its slot until its run is committed. Real app and HTTP server on 127.0.0.1; the run service is a stand-in that holds each call so
 * that the test sees how many were in progress together.
 */
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { createApp } from '../../src/app';
import { createErrorHandler } from '../../src/http/error-handler';
import { systemClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { createRunsRouter } from '../../src/http/runs-routes';
import { RunAdmission } from '../../src/http/run-admission';
import { limitBytes } from '../../src/http/hardening';
import type { RunAccepted } from '../../appsscript/shared/contract';
import type { PostatoReadPort } from '../../src/plan/dry-run-ports';
import { testConfig, testSecret } from './test-app';
import { until } from '../wait-until';

const LIMIT = 3;
const REQUESTS = 12;
const HEADER = ['Key', 'Platform', 'Account', 'Post type', 'Content', 'Scheduled at', 'Status', 'Post ID', 'Error'];

/** Postato as the planner reads it: no accounts or scheduled posts to check against. */
const postatoWithNothing: PostatoReadPort = {
  listAccounts: () => Promise.resolve(null),
  listScheduledPosts: () => Promise.resolve(null),
};

/**
 * Serves the runs router alone (no app-wide guards) with `admission` on 127.0.0.1, sends `head` (a request line and
 * headers, no body) on a raw socket, runs `check` with what came back so far, then closes everything.
 */
async function withRawRunRequest(
  o: { config: ReturnType<typeof testConfig>; admission: RunAdmission; head: string },
  check: (received: () => string) => Promise<void>,
): Promise<void> {
  const app = express();
  app.use(createRunsRouter({ config: o.config, clock: systemClock, logger: silentLogger, admission: o.admission }));
  app.use(createErrorHandler(silentLogger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write(o.head));
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  try {
    await check(() => received);
  } finally {
    socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('run admission', () => {
  it('when more requests wait than the limit allows, then they get their turns in arrival order', async () => {
    const admission = new RunAdmission(2);
    const order: number[] = [];
    const releases = await Promise.all([admission.acquire(), admission.acquire()]);
    const later = [1, 2, 3].map((n) => admission.acquire().then((release) => (order.push(n), release)));
    expect(admission.stats()).toMatchObject({ inProgress: 2, waiting: 3, peakInProgress: 2 });
    releases[0]!();
    releases[0]!(); // a second release of the same slot frees nothing more
    await later[0];
    expect(admission.stats()).toMatchObject({ inProgress: 2, waiting: 2 });
    releases[1]!();
    (await later[0]!)();
    await Promise.all(later.slice(1));
    expect(order).toEqual([1, 2, 3]);
    expect(admission.stats()).toMatchObject({ inProgress: 2, waiting: 0, peakInProgress: 2 });
  });

  it('when requests carry more bytes than the budget, then they wait for room in arrival order, and one larger than the budget goes alone', async () => {
    const admission = new RunAdmission(10, 1000);
    const granted: string[] = [];
    const take = (name: string, bytes: number) =>
      admission.acquire(bytes).then((release) => (granted.push(name), release));
    const a = await take('a', 600);
    const b = take('b', 600); // 1,200 bytes would pass the budget: waits although only one slot of ten is taken
    const c = take('c', 100); // fits, but waits behind b: a stream of small runs must not starve a large one
    const huge = take('huge', 5000);
    await new Promise((r) => setImmediate(r));
    expect(granted).toEqual(['a']);
    expect(admission.stats()).toMatchObject({ inProgress: 1, waiting: 3, bytesInProgress: 600 });
    a();
    const [releaseB, releaseC] = await Promise.all([b, c]);
    expect(granted).toEqual(['a', 'b', 'c']);
    expect(admission.stats()).toMatchObject({ inProgress: 2, waiting: 1, bytesInProgress: 700 });
    releaseB();
    await new Promise((r) => setImmediate(r));
    expect(granted).toEqual(['a', 'b', 'c']); // the huge one waits until nobody else holds
    releaseC();
    (await huge)();
    expect(granted).toEqual(['a', 'b', 'c', 'huge']);
    expect(admission.stats()).toMatchObject({
      inProgress: 0,
      waiting: 0,
      bytesInProgress: 0,
      peakBytesInProgress: 1000, // a request's weight is capped at the budget
    });
  });

  it('when there is no byte budget and a request of unknown length comes and goes, then the count alone still decides', async () => {
    const admission = new RunAdmission(2);
    (await admission.acquire(Infinity))();
    const both = await Promise.all([admission.acquire(10), admission.acquire(10)]);
    expect(admission.stats()).toMatchObject({ inProgress: 2, waiting: 0, bytesInProgress: 0 });
    both.forEach((release) => release());
  });

  it('when a waiting request is abandoned, then it leaves the queue, is never granted, and the ones behind it move up', async () => {
    const admission = new RunAdmission(10, 1000);
    const granted: string[] = [];
    const take = (name: string, bytes: number, signal?: AbortSignal) =>
      admission.acquire(bytes, signal).then((release) => (granted.push(name), release));
    const a = await take('a', 600);
    const quitting = new AbortController();
    const big = take('big', 600, quitting.signal); // heads the queue: 1,200 bytes would pass the budget
    const small = take('small', 100); // fits, but waits behind big
    await new Promise((r) => setImmediate(r));
    expect(admission.stats()).toMatchObject({ inProgress: 1, waiting: 2 });
    quitting.abort();
    expect(admission.stats()).toMatchObject({ inProgress: 2, waiting: 0 }); // at once, not when its turn comes
    await expect(big).rejects.toThrow();
    const releaseSmall = await small;
    expect(granted).toEqual(['a', 'small']);
    expect(admission.stats()).toMatchObject({ inProgress: 2, waiting: 0, bytesInProgress: 700 });
    a();
    releaseSmall();
    await expect(admission.acquire(0, AbortSignal.abort())).rejects.toThrow(); // abandoned before it asked
    expect(admission.stats()).toMatchObject({ inProgress: 0, waiting: 0, bytesInProgress: 0, peakInProgress: 2 });
  });

  it('when the runs router is served on its own and its admission is full, then a body declared over BODY_LIMIT is refused before it queues', async () => {
    const admission = new RunAdmission(1);
    const releaseFull = await admission.acquire();
    const head =
      'POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2049\r\n\r\n';
    try {
      await withRawRunRequest({ config: testConfig({ BODY_LIMIT: '2kb' }), admission, head }, async (received) => {
        await until('an answer or a place in the queue', () => received().length > 0 || admission.stats().waiting > 0);
        expect(admission.stats()).toMatchObject({ inProgress: 1, waiting: 0 });
        expect(received()).toMatch(/^HTTP\/1\.1 413 /);
        expect(received()).toContain('"error":"payload_too_large"');
      });
    } finally {
      releaseFull();
    }
  });

  it('when a body of unknown length (chunked) comes while others hold part of the byte budget, then it waits: it may be as large as the whole budget', async () => {
    const admission = new RunAdmission(4, 1000);
    const releaseSmall = await admission.acquire(100);
    const head =
      'POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    await withRawRunRequest({ config: testConfig(), admission, head }, async () => {
      await until('the chunked request to be admitted or queued', () => {
        const st = admission.stats();
        return st.waiting > 0 || st.inProgress > 1;
      });
      // Before, it counted as a quarter of the budget (the budget over the count) and went in beside the others.
      expect(admission.stats()).toMatchObject({ inProgress: 1, waiting: 1 });
      releaseSmall();
      await until('its turn', () => admission.stats().inProgress === 1 && admission.stats().waiting === 0);
      expect(admission.stats().bytesInProgress).toBe(1000);
    });
  });

  describe('POST /v1/runs', () => {
    const secret = testSecret();
    let server: http.Server;
    let url: string;
    let admission: RunAdmission;
    /** startRun calls in progress now, the most at once, those finished, and the held ones' releases. */
    let inside: number;
    let peakInside: number;
    let finished: number;
    let held: Array<() => void>;
    /** The held startRun calls' releases by spreadsheet, and the responses the server saw closed. */
    let heldBySheet: Map<string, () => void>;
    let closed: number;

    beforeEach(async () => {
      const config = testConfig({ AUTH_SHARED_SECRET: secret, RUN_ACCEPT_CONCURRENCY: String(LIMIT) });
      admission = new RunAdmission(config.RUN_ACCEPT_CONCURRENCY);
      inside = 0;
      peakInside = 0;
      finished = 0;
      held = [];
      heldBySheet = new Map();
      closed = 0;
      // Mounted before the runs router, so it sees a response close before the admission does.
      const closeCounter = express.Router().use((_req, res, next) => {
        res.once('close', () => (closed += 1));
        next();
      });
      const router = createRunsRouter({
        config,
        clock: systemClock,
        logger: silentLogger,
        postatoReadFor: () => postatoWithNothing,
        admission,
        startRun: async ({ request }): Promise<RunAccepted> => {
          inside += 1;
          peakInside = Math.max(peakInside, inside);
          await new Promise<void>((resolve) => {
            held.push(resolve);
            heldBySheet.set(request.spreadsheetId, resolve);
          });
          inside -= 1;
          finished += 1;
          return {
            runId: `run-${request.spreadsheetId}`,
            joined: false,
            summary: { total: 1 } as RunAccepted['summary'],
          };
        },
      });
      server = createApp({ config, logger: silentLogger, routers: [closeCounter, router] }).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterEach(async () => {
      // A failed test may leave callers waiting: their connections must not keep the server open.
      for (const release of held.splice(0)) release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    /** A Publish request on a connection of its own; `hangUp` closes that connection before the answer. */
    function publish(i: number): { answer: Promise<{ status: number; body: string }>; hangUp(): void } {
      const body = JSON.stringify({
        mode: 'publish',
        spreadsheetId: `sheet-${i}`,
        sheetName: 'Posts',
        sheetId: 0,
        spreadsheetTimeZone: 'America/New_York',
        workspaceId: 'wks_admission',
        header: HEADER,
        rows: [{ rowNumber: 2, values: [`k${i}`, 'x', 'acc_1', '', `Post ${i}`, '', '', '', ''] }],
      });
      const req = http.request(`${url}/v1/runs`, {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'X-Shared-Secret': secret,
          'X-User-Id': `tenant-${i}`,
          'X-Postato-Api-Key': `smcp_${String(i).padStart(64, '0')}`,
        },
      });
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
      });
      req.end(body);
      return { answer, hangUp: () => req.destroy() };
    }

    it('when many tenants press Publish at once, then all are accepted and at most the limit at a time', async () => {
      const answers = Array.from({ length: REQUESTS }, (_, i) => publish(i).answer);
      for (let released = 0; released < REQUESTS;) {
        // Hold the calls in progress until everyone left is either among them or queued at the admission, so a
        // missing limit would show as more than LIMIT calls in progress together.
        await until('the run requests in progress and queued', () => {
          const left = REQUESTS - finished;
          return (
            held.length > 0 &&
            (held.length === left || (held.length === LIMIT && admission.stats().waiting === left - LIMIT))
          );
        });
        const batch = held.splice(0);
        released += batch.length;
        for (const release of batch) release();
      }
      const responses = await Promise.all(answers);
      expect(responses.map((r) => r.status)).toEqual(Array<number>(REQUESTS).fill(202));
      const runIds = responses.map((r) => (JSON.parse(r.body) as RunAccepted).runId);
      expect(new Set(runIds).size).toBe(REQUESTS);
      expect(peakInside).toBe(LIMIT);
      expect(admission.stats()).toMatchObject({ inProgress: 0, waiting: 0, peakInProgress: LIMIT, bytesInProgress: 0 });
    });

    it('when a waiting caller hangs up, then its turn goes to the next request', async () => {
      const first = Array.from({ length: LIMIT }, (_, i) => publish(i).answer);
      await until('the first requests in progress', () => held.length === LIMIT);
      const quitter = publish(LIMIT);
      const quitterAnswer = quitter.answer.catch((err: unknown) => err);
      const next = publish(LIMIT + 1).answer;
      await until('two requests queued', () => admission.stats().waiting === 2);
      quitter.hangUp();
      await quitterAnswer;
      // It leaves the queue when it hangs up, not when its turn would have come.
      await until('the quitter gone from the queue', () => admission.stats().waiting === 1);
      expect(admission.stats()).toMatchObject({ inProgress: LIMIT, waiting: 1 });
      for (const release of held.splice(0)) release();
      await until('the next request in progress', () => held.length === 1);
      held.splice(0)[0]!();
      expect((await next).status).toBe(202);
      expect((await Promise.all(first)).map((r) => r.status)).toEqual(Array<number>(LIMIT).fill(202));
      expect(finished).toBe(LIMIT + 1);
      expect(admission.stats()).toMatchObject({ inProgress: 0, waiting: 0 });
    });
    it('when an admitted caller hangs up while its run is still being committed, then its slot is held until that ends, and then goes to the next request', async () => {
      const callers = Array.from({ length: LIMIT }, (_, i) => publish(i));
      const kept = callers.slice(1).map((c) => c.answer);
      const quitterAnswer = callers[0]!.answer.catch((err: unknown) => err);
      await until('the first requests in progress', () => held.length === LIMIT);
      const next = publish(LIMIT).answer;
      await until('one request queued', () => admission.stats().waiting === 1);
      callers[0]!.hangUp();
      await quitterAnswer;
      await until('the server saw the hang-up', () => closed === 1);
      // Its startRun still runs (and holds the memory of its rows): the next request waits for it.
      expect(admission.stats()).toMatchObject({ inProgress: LIMIT, waiting: 1 });
      expect(held.length).toBe(LIMIT);
      heldBySheet.get('sheet-0')!();
      await until('the next request in progress', () => held.length === LIMIT + 1);
      expect(finished).toBe(1);
      expect(admission.stats()).toMatchObject({ inProgress: LIMIT, waiting: 0, peakInProgress: LIMIT });
      for (const release of held.splice(0)) release();
      expect((await next).status).toBe(202);
      expect((await Promise.all(kept)).map((r) => r.status)).toEqual(Array<number>(LIMIT - 1).fill(202));
      expect(admission.stats()).toMatchObject({ inProgress: 0, waiting: 0 });
    });
    it('when admission is full and a request declares a body over BODY_LIMIT, then it gets the 413 at once, without waiting its turn', async () => {
      const first = Array.from({ length: LIMIT }, (_, i) => publish(i).answer);
      await until('the first requests in progress', () => held.length === LIMIT);
      const oversize = (limitBytes(testConfig().BODY_LIMIT) ?? 0) + 1;
      const { port } = server.address() as AddressInfo;
      // Headers only: the body it announces is never sent, as a client waiting for an early answer would do.
      const received = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () =>
          socket.write(
            `POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Shared-Secret: ${secret}\r\nX-User-Id: tenant-big\r\n` +
              `Content-Type: application/json\r\nContent-Length: ${oversize}\r\n\r\n`,
          ),
        );
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      // Answered while every slot is still held and nobody was queued: it never waited for admission.
      expect(admission.stats()).toMatchObject({ inProgress: LIMIT, waiting: 0, peakInProgress: LIMIT });
      expect(finished).toBe(0);
      expect(received).toMatch(/^HTTP\/1\.1 413 /);
      expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toEqual({
        error: 'payload_too_large',
        message: 'The request body is too large. Send fewer rows per run.',
      });
      for (const release of held.splice(0)) release();
      expect((await Promise.all(first)).map((r) => r.status)).toEqual(Array<number>(LIMIT).fill(202));
    });
  });
});
