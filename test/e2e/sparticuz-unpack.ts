/**
 * Unpacks the Chromium inside `@sparticuz/chromium` once per machine and package version, safely when several
 * processes ask at once (jest workers, two test runs). The package itself unpacks into `os.tmpdir()/chromium` and takes
 * that file for ready as soon as it exists, so a second process could launch a half-written binary. Here one process,
 * holding a lock directory, has the package unpack into a private staging folder and renames that folder into place:
 * the browser folder appears complete or not at all. The others wait for it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** How long a process waits for another one's unpacking before giving up with a sentence. */
const WAIT_LIMIT_MS = 5 * 60_000;
/** A lock without its owner's pid this long after it was taken belongs to a process that died taking it. */
const OWNERLESS_LOCK_MS = 30_000;
const POLL_MS = 200;

/** The package's version, so an upgrade unpacks the new browser next to the old one. */
function packageVersion(): string {
  // The package's `exports` hide package.json; it sits two folders above the CommonJS entry.
  const entry = require.resolve('@sparticuz/chromium');
  const manifest = JSON.parse(readFileSync(path.join(path.dirname(entry), '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/**
 * Lets the package unpack into `dir`: it unpacks into os.tmpdir(), so a child node process runs it with TMPDIR set to
 * `dir` (setting TMPDIR in this process would not do: jest gives each test file its own copy of process.env).
 */
async function unpackInto(dir: string): Promise<string> {
  const entry = JSON.stringify(require.resolve('@sparticuz/chromium'));
  const script = `require(${entry}).executablePath().then((p) => process.stdout.write(p))`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: { ...process.env, TMPDIR: dir },
  });
  return stdout.trim();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the lock's owner is gone (it died unpacking), so the lock may be broken. */
async function lockAbandoned(lock: string): Promise<boolean> {
  const pid = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''));
  if (Number.isInteger(pid) && pid > 0) return !alive(pid);
  const since = await stat(lock).then(
    (s) => Date.now() - s.mtimeMs,
    () => 0,
  );
  return since > OWNERLESS_LOCK_MS;
}

/** Unpacks while holding the lock: into a staging folder beside `target`, then one rename. */
async function unpackHoldingLock(root: string, target: string, lock: string): Promise<void> {
  await writeFile(path.join(lock, 'pid'), String(process.pid));
  const staging = await mkdtemp(path.join(root, `${path.basename(target)}.staging-`));
  try {
    const binary = await unpackInto(staging);
    if (path.dirname(binary) !== staging) {
      throw new Error(`@sparticuz/chromium unpacked to ${binary}, not into ${staging}; its unpacking changed.`);
    }
    await rename(staging, target).catch((error: unknown) => {
      // A process that broke an abandoned lock at the same moment may have renamed its copy first: use that one.
      if (!existsSync(path.join(target, 'chromium'))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The path of the unpacked binary, unpacking it first when no process has yet. */
export async function unpackedSparticuzChromium(root: string = tmpdir()): Promise<string> {
  const target = path.join(root, `postato-chromium-${packageVersion()}`);
  const binary = path.join(target, 'chromium');
  const lock = `${target}.lock`;
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!existsSync(binary)) {
    const taken = await mkdir(lock).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') return false;
        throw error;
      },
    );
    if (taken) {
      try {
        // Another process may have finished between the check above and taking the lock.
        if (!existsSync(binary)) await unpackHoldingLock(root, target, lock);
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
      continue;
    }
    if (await lockAbandoned(lock)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Waited ${WAIT_LIMIT_MS / 1000} s for another process to unpack Chromium into ${target}. If none is running, delete ${lock}.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return binary;
}
