/**
 * The keep-alive connection pool Postato calls go through (undici). The service builds one, sized for the calls its
 * dispatcher keeps in flight, and closes it on shutdown; clients built without one share a process-wide default.
 */
import { Agent, type Dispatcher } from 'undici';

/** How to size a pool. */
export interface PostatoAgentOptions {
  /** Connections per origin: at least the calls in flight at once, so no call waits for a socket. */
  connections: number;
  /** Upper bound of a TCP/TLS connect (default 10 s, undici's own). */
  connectTimeoutMs?: number;
}

/** A keep-alive pool for Postato: one request per connection at a time (no pipelining), sockets reused. */
export function createPostatoAgent(o: PostatoAgentOptions): Agent {
  return new Agent({
    connections: Math.max(1, o.connections),
    // Pipelining would put a second call behind a slow one on the same socket; Postato answers one at a time.
    pipelining: 1,
    connect: { timeout: o.connectTimeoutMs ?? 10_000 },
  });
}

let shared: Agent | undefined;

/** The pool of clients given none (interactive routes, tests, benches): created on first use, never closed. */
export function sharedPostatoAgent(): Dispatcher {
  // Idle undici sockets are unref'd, so an unclosed shared pool never keeps the process alive.
  return (shared ??= createPostatoAgent({ connections: 64 }));
}
