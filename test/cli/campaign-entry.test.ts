/**
 * The two ways the campaign command starts, as child processes over real HTTP: `npm run campaign` (tsx on the
 * TypeScript entry) and the package's `postato-campaign` bin (a shim that requires the compiled entry from dist/; here
 * dist/ is stood in for by a file that loads the same entry through tsx, since compiling the project takes minutes).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DemoStack } from '../../scripts/demo-stack';
import { cliEnv, copyFixture, removeTempDirs, startCampaignStack, tempDir } from './campaign-kit';

const ROOT = path.resolve(__dirname, '../..');
/** Each test starts tsx child processes, which take long on a loaded 2-core machine. */
const SPAWN_TIMEOUT_MS = 120_000;

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('the campaign command as a process', () => {
  let stack: DemoStack;
  let file: string;
  beforeAll(async () => {
    stack = await startCampaignStack();
    file = copyFixture('sample-campaign.excel-export.csv', tempDir());
  });
  afterAll(async () => {
    await stack.close();
    removeTempDirs();
  });

  it(
    'npm run campaign (tsx src/cli/campaign-cli.ts) dry-runs the Excel export and never prints a secret',
    async () => {
      const res = await run(['--require', 'tsx/cjs', 'src/cli/campaign-cli.ts', 'dry-run', file], {
        ...cliEnv(stack),
        TZ: 'America/New_York',
      });
      expect(res.code).toBe(0);
      expect(res.out).toContain('7 rows: 7 ready, 0 with warnings, 0 invalid; 7 to send, 0 already posted.');
      expect(res.err).toContain('times in America/New_York');
      expect(res.out + res.err).not.toContain(stack.apiKey);
      expect(res.out + res.err).not.toContain(stack.headers['x-shared-secret']);
    },
    SPAWN_TIMEOUT_MS,
  );

  it(
    'the bin shim runs the compiled entry, and says to build first when dist/ is missing',
    async () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        bin: Record<string, string>;
      };
      const shim = path.join(ROOT, pkg.bin['postato-campaign']!);
      const root = tempDir();
      fs.mkdirSync(path.join(root, 'bin'));
      fs.copyFileSync(shim, path.join(root, 'bin', 'postato-campaign.js'));

      const missing = await run([path.join(root, 'bin', 'postato-campaign.js'), 'dry-run', file], cliEnv(stack));
      expect(missing.code).toBe(2);
      expect(missing.err).toContain('run `npm run build`');

      // Where tsconfig.build.json puts the compiled entry (rootDir ".", outDir "dist").
      const entry = path.join(root, 'dist', 'src', 'cli', 'campaign-cli.js');
      fs.mkdirSync(path.dirname(entry), { recursive: true });
      fs.writeFileSync(
        entry,
        `require(${JSON.stringify(require.resolve('tsx/cjs'))});\nmodule.exports = require(${JSON.stringify(path.join(ROOT, 'src/cli/campaign-cli.ts'))});\n`,
      );
      const built = await run(
        [path.join(root, 'bin', 'postato-campaign.js'), 'dry-run', file, '--time-zone', 'America/New_York'],
        cliEnv(stack),
      );
      expect(built.code).toBe(0);
      expect(built.out).toContain('7 rows: 7 ready');
    },
    SPAWN_TIMEOUT_MS,
  );
});
