/**
 * The real service as a child process (`src/index.ts` under tsx, or the build in `dist/`) for crash and
 * multi-instance tests and the load benchmark: it listens on a free port and reports it over IPC; callers stop it
 * with SIGKILL or SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { RowResult, RunStatusResponse } from '../../appsscript/shared/contract';

const ROOT = path.resolve(__dirname, '../..');

export interface ServiceProcess {
  proc: ChildProcess;
  url: string;
}

/** How the service runs: from source under tsx (tests), or `node dist/src/index.js` as in production (`npm start`). */
export type ServiceEntry = 'tsx' | 'dist';

/**
 * Starts the service with `env` on top of this process's environment; rejects if it exits before listening.
 * `nodeArgs` go to node before the entry (e.g. --cpu-prof, which NODE_OPTIONS does not allow).
 */
export function startServiceProcess(
  env: Record<string, string>,
  entry: ServiceEntry = 'tsx',
  nodeArgs: string[] = [],
): Promise<ServiceProcess> {
  const args = [...nodeArgs, ...(entry === 'dist' ? ['dist/src/index.js'] : ['--require', 'tsx/cjs', 'src/index.ts'])];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('message', (m: { listening?: number }) => {
      if (m.listening) resolve({ proc, url: `http://127.0.0.1:${m.listening}` });
    });
    proc.on('exit', (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`service exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

/** Sends `signal` and resolves once the process has exited (at once if it already has). */
export function stopServiceProcess(service: ServiceProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (service.proc.exitCode !== null || service.proc.signalCode !== null) return resolve();
    service.proc.once('exit', () => resolve());
    service.proc.kill(signal);
  });
}

/** Polls `cond` until it holds, or fails naming what it waited for. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = 'a condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Follows a run over HTTP, as the shared-secret organisation, until it has ended; answers its last status and every
 * row result seen on the way (a status carries only the results since its cursor).
 */
export async function waitForRunEnd(
  url: string,
  runId: string,
  secret: string,
  timeoutMs: number,
): Promise<{ status: RunStatusResponse; results: Map<string, RowResult> }> {
  let status: RunStatusResponse | undefined;
  const results = new Map<string, RowResult>();
  await waitUntil(
    async () => {
      const res = await fetch(`${url}/v1/runs/${runId}`, {
        headers: { 'X-Shared-Secret': secret, 'X-User-Id': 'manager' },
      });
      status = (await res.json()) as RunStatusResponse;
      for (const r of status.results ?? []) results.set(r.key, r);
      return status.state !== 'running' && status.state !== 'queued';
    },
    timeoutMs,
    `run ${runId} to end`,
  );
  return { status: status!, results };
}
