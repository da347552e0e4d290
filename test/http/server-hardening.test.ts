/**
 * Hardening that needs a real socket: server timeouts against slow and idle clients, an oversize body refused from
 * its Content-Length before it is sent, and bodies parsed only on the routes that take one, after authentication.
 */
import net from 'node:net';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createHttpServer } from '../../src/http/http-server';
import { buildTestApp, testConfig, testSecret } from './test-app';

const secret = testSecret();
const config = testConfig({
  AUTH_SHARED_SECRET: secret,
  BODY_LIMIT: '2kb',
  HTTP_HEADERS_TIMEOUT_MS: '400',
  HTTP_REQUEST_TIMEOUT_MS: '800',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '300',
});
const app = buildTestApp(config);

let server: Server;
let port: number;
beforeAll(async () => {
  server = createHttpServer(app, config);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Opens a raw connection; resolves with everything the server sent once it closed the connection. */
function rawExchange(write: (socket: net.Socket) => void): Promise<{ received: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ received }));
    socket.on('connect', () => write(socket));
  });
}

describe('server timeouts', () => {
  it('when a client sends part of its headers and then nothing, then the server closes the connection', async () => {
    const { received } = await rawExchange((s) => s.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `));
    // Node answers 408 (or just closes); it never answers the request it has not fully received.
    expect(received).not.toContain('200 OK');
  });
  it('when a client sends its headers but only part of the declared body, then the server gives up on the request', async () => {
    const { received } = await rawExchange((s) =>
      s.write(
        `POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Shared-Secret: ${secret}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`,
      ),
    );
    expect(received).not.toContain('200 OK');
  });
  it('when a keep-alive connection idles after its answer, then the server closes it', async () => {
    const { received } = await rawExchange((s) =>
      s.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`),
    );
    expect(received).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(received).toMatch(/Keep-Alive: timeout=\d+/i);
  });
});

describe('oversize bodies', () => {
  it('when a request declares a 100 MB body, then it gets 413 at once, before sending any of it, and the connection closes', async () => {
    const { received } = await rawExchange((s) =>
      s.write(
        `POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Shared-Secret: ${secret}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`,
      ),
    );
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toMatch(/Connection: close/i);
    expect(received).toContain('"error":"payload_too_large"');
  });
  it('when an unauthenticated request declares an oversize body to an unknown path, then it is refused the same way', async () => {
    const { received } = await rawExchange((s) =>
      s.write(`POST /v1/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 999999999\r\n\r\n`),
    );
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('body parsing only where a body is taken', () => {
  const auth = { 'X-Shared-Secret': secret };
  const broken = '{"rows": [1,';
  it('when an unauthenticated caller posts a malformed body, then it is 401: the body was never parsed', async () => {
    const res = await request(app).post('/v1/echo').set('Content-Type', 'application/json').send(broken);
    expect(res.status).toBe(401);
  });
  it('when a signed-in caller posts a malformed body to an unknown path or a route without a body, then the body is ignored', async () => {
    const unknown = await request(app)
      .post('/v1/nowhere')
      .set(auth)
      .set('Content-Type', 'application/json')
      .send(broken);
    expect(unknown.status).toBe(404);
    const whoami = await request(app).get('/v1/whoami').set(auth).set('Content-Type', 'application/json').send(broken);
    expect(whoami.status).toBe(200);
    const outside = await request(app).post('/elsewhere').set('Content-Type', 'application/json').send(broken);
    expect(outside.status).toBe(404);
  });
  it('when a route that takes a body gets a malformed one, then it answers 400 bad_json', async () => {
    const res = await request(app).post('/v1/echo').set(auth).set('Content-Type', 'application/json').send(broken);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_json');
  });
});
