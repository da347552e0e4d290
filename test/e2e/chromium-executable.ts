/**
 * Finds the Chromium the browser test drives: CHROMIUM_PATH when set, else a system chromium, else the one inside the
 * `@sparticuz/chromium` devDependency (so `npm ci` alone brings a browser; it is unpacked once into the temp folder,
 * safely when several processes ask at once: see sparticuz-unpack.ts), and launches it for the browser tests.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { unpackedSparticuzChromium } from './sparticuz-unpack';

/** Where Debian and Ubuntu install chromium. */
const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The path of a Chromium binary, and where it came from (for the failure message). */
export interface ChromiumExecutable {
  path: string;
  source: 'CHROMIUM_PATH' | 'system' | '@sparticuz/chromium';
}

/** Resolves the browser; a CHROMIUM_PATH that points at nothing is an error rather than a silent fallback. */
export async function chromiumExecutable(
  env: NodeJS.ProcessEnv = process.env,
  opts: { unpackRoot?: string } = {},
): Promise<ChromiumExecutable> {
  const fromEnv = env.CHROMIUM_PATH?.trim();
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(`CHROMIUM_PATH is set to ${fromEnv}, but there is no file there. Fix it or unset it.`);
    }
    return { path: fromEnv, source: 'CHROMIUM_PATH' };
  }
  const system = SYSTEM_CHROMIUM.find((p) => existsSync(p));
  if (system) return { path: system, source: 'system' };
  return { path: await unpackedSparticuzChromium(opts.unpackRoot), source: '@sparticuz/chromium' };
}

/** Starts headless Chromium the way the browser tests want it: no sandbox, no GPU, no traffic of its own. */
export async function launchChromium(): Promise<Browser> {
  const executable = await chromiumExecutable();
  return chromium.launch({
    executablePath: executable.path,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
