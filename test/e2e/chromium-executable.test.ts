import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromiumExecutable } from './chromium-executable';

const ROOT = path.resolve(__dirname, '..', '..');

/** Starts unpack-child.ts; resolves `ready` once it is loaded and `done` with its JSON line (or its stderr). */
function startChild(unpackRoot: string, goFile: string) {
  const child = spawn(
    path.join(ROOT, 'node_modules/.bin/tsx'),
    [path.join(__dirname, 'unpack-child.ts'), unpackRoot, goFile],
    { cwd: ROOT, env: { ...process.env, CHROMIUM_PATH: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = new Promise<{ code: number | null; lines: string[]; err: string }>((resolve) =>
    child.on('close', (code) => {
      markReady();
      resolve({ code, lines: out.trim().split('\n'), err });
    }),
  );
  return { ready, done };
}

describe('the browser the e2e test drives', () => {
  it('refuses a CHROMIUM_PATH that points at nothing instead of silently using another browser', async () => {
    await expect(chromiumExecutable({ CHROMIUM_PATH: '/nonexistent/chromium' })).rejects.toThrow(
      /CHROMIUM_PATH is set to \/nonexistent\/chromium, but there is no file there/,
    );
  });

  it('without CHROMIUM_PATH finds a binary: the system one, or the one from @sparticuz/chromium', async () => {
    const found = await chromiumExecutable({});
    expect(existsSync(found.path)).toBe(true);
    expect(['system', '@sparticuz/chromium']).toContain(found.source);
    if (!existsSync('/usr/bin/chromium') && !existsSync('/usr/bin/chromium-browser')) {
      expect(found.source).toBe('@sparticuz/chromium');
    }
  });

  it('several processes asking at once all get one complete browser, unpacked once, that runs', async () => {
    // A machine without CHROMIUM_PATH and system chromium is what this is about; with one, the package is not used.
    if (existsSync('/usr/bin/chromium') || existsSync('/usr/bin/chromium-browser')) return;
    const unpackRoot = mkdtempSync(path.join(tmpdir(), 'postato-unpack-test-'));
    try {
      const goFile = path.join(unpackRoot, 'go');
      const children = [1, 2, 3].map(() => startChild(unpackRoot, goFile));
      await Promise.all(children.map((c) => c.ready));
      writeFileSync(goFile, '');
      const results = await Promise.all(children.map((c) => c.done));
      for (const r of results) expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
      const answers = results.map(
        (r) => JSON.parse(r.lines.at(-1)!) as { path: string; source: string; version: string },
      );
      expect(new Set(answers.map((a) => a.path)).size).toBe(1);
      for (const a of answers) {
        expect(a.source).toBe('@sparticuz/chromium');
        expect(a.version).toMatch(/^Chromium \d+\./);
      }
      // One browser folder; no staging folder or lock left behind.
      expect(readdirSync(unpackRoot).filter((name) => name !== 'go')).toEqual([
        path.basename(path.dirname(answers[0]!.path)),
      ]);
    } finally {
      rmSync(unpackRoot, { recursive: true, force: true });
    }
  }, 240_000);
});
