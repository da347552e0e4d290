/**
 * One of several processes the unpacking test starts at once: it loads everything, says "ready", waits for the
 * parent's go file (so all children ask for Chromium at the same moment), resolves the browser, runs it with
 * --version and prints what it got as one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromiumExecutable } from './chromium-executable';

async function main(): Promise<void> {
  const [root, goFile] = process.argv.slice(2) as [string, string];
  process.stdout.write('ready\n');
  while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 20));
  const found = await chromiumExecutable({}, { unpackRoot: root });
  const version = execFileSync(found.path, ['--version'], { encoding: 'utf8' }).trim();
  process.stdout.write(JSON.stringify({ path: found.path, source: found.source, version }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
