/**
 * The one bridge from the sidebar to the add-on's server functions: a typed promise around google.script.run.
 * The names and types come from ServerRpc, so a call can't name a missing function or pass the wrong arguments.
 */
import type { ServerRpc } from '../shared/server-rpc';

interface ScriptRunner {
  withSuccessHandler(fn: (value: unknown) => void): ScriptRunner;
  withFailureHandler(fn: (error: unknown) => void): ScriptRunner;
  [name: string]: unknown;
}

declare const google: { script: { run: ScriptRunner } };

/** Turns whatever google.script.run failed with into an Error with a readable message. */
export function toError(error: unknown): Error {
  if (error instanceof Error) return error;
  const message = (error as { message?: unknown } | null)?.message;
  return new Error(
    typeof message === 'string' && message !== ''
      ? message
      : 'The add-on stopped unexpectedly. Reload the sidebar and try again.',
  );
}

/** Calls a server function and resolves with its result. */
export function callServer<K extends keyof ServerRpc>(
  name: K,
  ...args: Parameters<ServerRpc[K]>
): Promise<ReturnType<ServerRpc[K]>> {
  return new Promise((resolve, reject) => {
    const runner = google.script.run
      .withSuccessHandler((value) => resolve(value as ReturnType<ServerRpc[K]>))
      .withFailureHandler((error) => reject(toError(error)));
    (runner[name] as (...a: unknown[]) => void)(...args);
  });
}
