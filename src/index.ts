/** Process entry: load the configuration, build the service, listen, and shut down cleanly on SIGTERM. */
import type { AddressInfo } from 'node:net';
import { loadConfig } from './config';
import { createLogger } from './logger';
import { buildService } from './service';
import { startupAuthCheck } from './http/auth';
import { createHttpServer } from './http/http-server';

async function main(): Promise<void> {
  const config = loadConfig();
  // No mode lets an unauthenticated request in: refuse to start without a shared secret or OAuth client ids.
  startupAuthCheck(config);
  const logger = createLogger({ level: config.LOG_LEVEL });
  const service = await buildService(config, { logger });
  const server = createHttpServer(service.app, config);
  server.listen(config.PORT, config.HOST, () => {
    const { port } = server.address() as AddressInfo;
    logger.info({ port, host: config.HOST }, 'postato-sheets listening');
    // PORT=0 picks a free port; a parent process (tests, the demo) reads it from this line.
    if (process.send) process.send({ listening: port });
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // The forced exit is armed first: nothing below (not even a log line to a closed pipe) may keep the process up.
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    try {
      logger.info({ signal }, 'shutting down');
    } catch {
      // stdout is gone (the parent closed the pipe); shutting down matters more than saying so.
    }
    // Stop accepting first, then let in-flight Postato calls finish and be recorded, then close the ledger.
    server.close();
    server.closeIdleConnections?.();
    service
      .close()
      .then(() => process.exit(0))
      .catch((err) => {
        logger.error({ err: { message: (err as Error)?.message } }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
