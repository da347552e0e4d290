/**
 * Checkpoints the SQLite ledger's WAL from a worker thread, on a connection of its own. SQLite's automatic checkpoint
 * runs inside the commit that lets the WAL reach 1,000 pages: it copies the WAL into the database file and syncs both,
 * tens of milliseconds on the service's one thread, with every other ledger call waiting behind it. Here the service's
 * connection never checkpoints (wal_autocheckpoint 0) and the worker runs a PASSIVE checkpoint every interval, which
 * takes no lock a writer needs, so the copying and syncing happen beside the service's writes.
 *
 * SQLite starts the WAL over only once a checkpoint has caught up with the last commit; a PASSIVE one that writes go
 * on beside may never quite catch up (the checkpoint starvation of better-sqlite3's performance notes). So when the
 * WAL holds more than a bound, a RESTART copies the few frames PASSIVE left and the next commit starts the WAL over.
 * The RESTART runs on the service's own connection, between its transactions, never in the worker: a RESTART holds
 * the write lock, and a deferred transaction (kysely's, which reads first) that asks to become a writer meanwhile is
 * refused at once as "database is locked", without the busy wait (SQLite cannot wait there without risking a
 * deadlock). A service that is inside a transaction whenever a RESTART is due would skip it every time and the WAL
 * would grow without end; so after a few skipped RESTARTs in a row the checkpoints are handed back to SQLite: the
 * service's commits checkpoint at the bound (wal_autocheckpoint) and the worker pauses, so that no two checkpointers
 * contend and each of those checkpoints lets the next write start the WAL over. The paused worker still ticks, and the
 * first RESTART that runs in a gap between transactions takes the checkpoints back. If the worker dies, the service's
 * connection goes back to automatic checkpoints, so the WAL never grows without a bound.
 */
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** What one checkpoint of the worker did, as SQLite's wal_checkpoint pragma reports it (frames are WAL pages). */
export interface CheckpointReport {
  mode: 'PASSIVE' | 'RESTART';
  /** 1 when the checkpoint could not finish (another checkpointer, or readers a RESTART waited for in vain). */
  busy: number;
  /** Frames in the WAL; -1 when the checkpoint did not run. */
  log: number;
  /** Frames copied into the database file so far; -1 when the checkpoint did not run. */
  checkpointed: number;
}

/** The settings of a checkpointer; every size is in bytes. */
export interface WalCheckpointerOptions {
  /** The database file (not :memory:), already in WAL mode. */
  file: string;
  /** The service's connection: no automatic checkpoints while the worker runs, back to SQLite's default if it dies. */
  connection: BetterSqlite3.Database;
  /** Time between checkpoints (a PASSIVE one with nothing to copy costs a few microseconds of the worker's time). */
  intervalMs?: number;
  /** A WAL holding more than this after a PASSIVE checkpoint is restarted. */
  maxWalBytes?: number;
  /**
   * RESTARTs in a row that may be skipped (the service inside a transaction, or the lock busy) before checkpoints are
   * handed back to the service's commits, at maxWalBytes, until a RESTART runs in a gap.
   */
  maxSkippedRestarts?: number;
  /** Told when the worker fails (it does not restart; automatic checkpoints are back on by then). */
  onFailure(err: Error): void;
}

/** A running checkpointer. */
export interface WalCheckpointer {
  /** False once the worker has stopped or died. */
  readonly running: boolean;
  /** The worker's next checkpoint report (rejects if the worker stops first). */
  nextCheckpoint(): Promise<CheckpointReport>;
  /** Stops the worker and closes its connection; resolves when the thread has exited. */
  stop(): Promise<void>;
}

/** What the worker posts each interval: its PASSIVE checkpoint's report, or that it is paused. */
type WorkerMessage = (CheckpointReport & { restartWanted: boolean }) | { paused: true };

/** The report of a turn whose checkpoint did not run (the worker is paused). */
const NOT_RUN: CheckpointReport = { mode: 'PASSIVE', busy: 0, log: -1, checkpointed: -1 };

/** SQLite's default automatic checkpoint threshold (pages), restored when the worker dies. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

// Plain JavaScript run with `eval`, so the same worker runs under tsx, jest and the built service alike.
const WORKER_SOURCE = `
const { parentPort, workerData: o } = require('node:worker_threads');
const Database = require(o.driverPath);
const db = new Database(o.file, { fileMustExist: true });
const maxFrames = Math.max(1, Math.floor(o.maxWalBytes / db.pragma('page_size', { simple: true })));
const busyCodes = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED']);
const checkpoint = (mode) => {
  try {
    const [r] = db.pragma('wal_checkpoint(' + mode + ')');
    return { mode, busy: r.busy, log: r.log, checkpointed: r.checkpointed };
  } catch (err) {
    if (!busyCodes.has(err && err.code)) throw err;
    return { mode, busy: 1, log: -1, checkpointed: -1 };
  }
};
let timer;
let paused = false;
const tick = () => {
  if (paused) parentPort.postMessage({ paused: true });
  else {
    const report = checkpoint('PASSIVE');
    parentPort.postMessage({ ...report, restartWanted: report.log > maxFrames });
  }
  timer = setTimeout(tick, o.intervalMs);
};
parentPort.on('message', (m) => {
  if (m === 'pause' || m === 'resume') paused = m === 'pause';
  if (m !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
tick();
`;

/**
 * RESTART on the service's connection while it has no transaction open. It does not wait for a lock (busy_timeout 0
 * for its duration): if the worker is checkpointing or another process writes, the next report asks again.
 */
function restart(connection: BetterSqlite3.Database): CheckpointReport {
  const busyTimeout = connection.pragma('busy_timeout', { simple: true }) as number;
  connection.pragma('busy_timeout = 0');
  try {
    const [r] = connection.pragma('wal_checkpoint(RESTART)') as { busy: number; log: number; checkpointed: number }[];
    return { mode: 'RESTART', busy: r!.busy, log: r!.log, checkpointed: r!.checkpointed };
  } catch (err) {
    if (!['SQLITE_BUSY', 'SQLITE_LOCKED'].includes((err as { code?: string }).code ?? '')) throw err;
    return { mode: 'RESTART', busy: 1, log: -1, checkpointed: -1 };
  } finally {
    connection.pragma(`busy_timeout = ${busyTimeout}`);
  }
}

/** Starts the worker and turns the connection's automatic checkpoints off. */
export function startWalCheckpointer(opts: WalCheckpointerOptions): WalCheckpointer {
  const { connection } = opts;
  const maxWalBytes = opts.maxWalBytes ?? 32 * 1024 * 1024;
  const maxSkippedRestarts = opts.maxSkippedRestarts ?? 8;
  const maxWalPages = Math.max(
    1,
    Math.floor(maxWalBytes / (connection.pragma('page_size', { simple: true }) as number)),
  );
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driverPath: require.resolve('better-sqlite3'),
      file: opts.file,
      intervalMs: opts.intervalMs ?? 250,
      maxWalBytes,
    },
  });
  // A ledger left open must not keep the process alive for its checkpointer.
  worker.unref();
  connection.pragma('wal_autocheckpoint = 0');

  let running = true;
  let stopping = false;
  let skippedRestarts = 0;
  let handedBack = false;
  /** Checkpoints in the service's commits and the worker paused, or the worker's alone. */
  const handBack = (on: boolean) => {
    if (on === handedBack) return;
    handedBack = on;
    if (connection.open) connection.pragma(`wal_autocheckpoint = ${on ? maxWalPages : 0}`);
    worker.postMessage(on ? 'pause' : 'resume');
  };
  /** One turn: a RESTART if one is due and can run now, counting the skipped ones. */
  const turn = (message: WorkerMessage): CheckpointReport => {
    const { restartWanted, ...report } = 'paused' in message ? { ...NOT_RUN, restartWanted: handedBack } : message;
    if (!restartWanted) {
      skippedRestarts = 0;
      return report;
    }
    const restarted = running && connection.open && !connection.inTransaction ? restart(connection) : undefined;
    if (restarted?.busy === 0) {
      skippedRestarts = 0;
      handBack(false);
    } else if (++skippedRestarts >= maxSkippedRestarts) handBack(true);
    return restarted ?? report;
  };

  let waiters: { resolve(r: CheckpointReport): void; reject(err: Error): void }[] = [];
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const failed = (err: Error) => {
    if (!running) return;
    running = false;
    if (connection.open) connection.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    opts.onFailure(err);
  };
  const tell = (report: CheckpointReport) => {
    const told = waiters;
    waiters = [];
    told.forEach((w) => w.resolve(report));
  };
  worker.on('message', (message: WorkerMessage) => {
    // One report per turn: the RESTART's when one ran, else the worker's PASSIVE one (or one that did not run).
    try {
      tell(turn(message));
    } catch (err) {
      // Not a busy lock (restart() reports those): the WAL cannot be bounded from here; SQLite's own checkpoints take over.
      failed(err as Error);
      void worker.terminate();
    }
  });
  worker.on('error', (err) => failed(err));
  worker.on('exit', (code) => {
    if (!stopping) failed(new Error(`The WAL checkpointer exited unexpectedly (code ${code})`));
    running = false;
    waiters.forEach((w) => w.reject(new Error('The WAL checkpointer stopped')));
    waiters = [];
  });

  return {
    get running() {
      return running;
    },
    nextCheckpoint: () =>
      running
        ? new Promise<CheckpointReport>((resolve, reject) => waiters.push({ resolve, reject }))
        : Promise.reject(new Error('The WAL checkpointer is not running')),
    async stop() {
      if (!running) return exited;
      stopping = true;
      worker.postMessage('stop');
      // A worker in the middle of a RESTART gets a moment to finish; then it is ended.
      const force = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(force);
    },
  };
}
