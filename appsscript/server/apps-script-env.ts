/**
 * Reads the Apps Script services from the global scope at call time (never at load time, so the bundle can be
 * loaded before they exist), and holds the build-time settings esbuild bakes into the bundle.
 */
import type { AppsScriptServices } from './apps-script-types';

declare const __POSTATO_SERVICE_URL__: string | undefined;

/** Default service URL when the bundle was not built with one (the local demo). */
export const DEFAULT_SERVICE_URL = 'http://127.0.0.1:8080';

/** The service URL baked in at build time, without a trailing slash. */
export function serviceUrl(): string {
  const fromBuild = typeof __POSTATO_SERVICE_URL__ === 'string' ? __POSTATO_SERVICE_URL__ : undefined;
  const fromTest = (globalThis as { POSTATO_SERVICE_URL_OVERRIDE?: string }).POSTATO_SERVICE_URL_OVERRIDE;
  return (fromTest ?? fromBuild ?? DEFAULT_SERVICE_URL).replace(/\/+$/, '');
}

/** The Apps Script services of the current execution. */
export function gas(): AppsScriptServices {
  return globalThis as unknown as AppsScriptServices;
}

/** An error whose message is a plain sentence for the user; the sidebar shows it as is. */
export class AddonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddonError';
  }
}
