/**
 * Test kit for the campaign command: the demo stack (Postato sandbox, Sheets fake, the real service on port 0), the
 * sample campaign's accounts, fixture copies moved to next year, and a runner that calls the command in-process over
 * real HTTP and collects what it prints and the progress bar.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack';
import { runCampaignCli } from '../../src/cli/campaign-cli';
import type { SandboxAccount } from '../../src/sandbox/postato-sandbox-settings';

export const WORKSPACE = 'wks_demo';
const EXAMPLES = path.resolve(__dirname, '../../examples');

/** The accounts the sample campaign names, all connected; pass a status to change the TikTok one. */
export function sampleAccounts(tiktokStatus: SandboxAccount['status'] = 'connected'): SandboxAccount[] {
  const a = (id: string, platform: string, username: string, status: SandboxAccount['status'] = 'connected') => ({
    id,
    workspaceId: WORKSPACE,
    platform,
    username,
    status,
  });
  return [
    a('acc_01HDEMOXBRAND', 'twitter', 'brand'),
    a('acc_01HDEMOIGSTUDIO', 'instagram', 'brand.studio'),
    a('acc_01HLINKEDINPAGE', 'linkedin', 'brand-company'),
    a('acc_01HDEMOYTBRANDTV', 'youtube', 'brandtv'),
    a('acc_01HDEMOTIKTOK', 'tiktok', 'brand', tiktokStatus),
  ];
}

/** The demo stack with jitter off (so two files of one campaign plan the same times) and fast polling. */
export function startCampaignStack(): Promise<DemoStack> {
  return startDemoStack({ sandboxSettings: { accounts: sampleAccounts() }, env: { PLAN_JITTER_SECONDS: '0' } });
}

const made: string[] = [];

/** A fresh folder for one test's files (removed by removeTempDirs). */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'campaign-cli-'));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** The sample campaign is planned in April 2027; the copy moves it to next April so it stays in the future. */
export const SAMPLE_YEAR = String(new Date().getUTCFullYear() + 1);

/** Copies an examples/ fixture into `dir`, its 2027 dates moved to SAMPLE_YEAR, bytes otherwise unchanged. */
export function copyFixture(name: string, dir: string, as = name): string {
  const text = fs.readFileSync(path.join(EXAMPLES, name), 'utf8').replace(/2027/g, SAMPLE_YEAR);
  const file = path.join(dir, as);
  fs.writeFileSync(file, text, 'utf8');
  return file;
}

/** Writes a CSV from lines (joined with `eol`). */
export function writeCsv(dir: string, name: string, lines: string[], eol = '\n'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join(eol) + eol, 'utf8');
  return file;
}

/** What one command printed. */
export interface CliOutcome {
  code: number;
  out: string;
  err: string;
  progress: string;
}

/** The environment the command reads, pointing at `stack`. */
export function cliEnv(stack: DemoStack): Record<string, string> {
  return {
    POSTATO_SHEETS_SERVICE_URL: stack.url,
    AUTH_SHARED_SECRET: stack.headers['x-shared-secret']!,
    POSTATO_API_KEY: stack.apiKey,
    POSTATO_WORKSPACE_ID: WORKSPACE,
  };
}

/** Runs the command in-process against `stack` (over HTTP), with the times of the sheet's zone. */
export async function campaign(
  stack: DemoStack,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  let progress = '';
  const progressStream = new Writable({
    write(chunk, _enc, done) {
      progress += String(chunk);
      done();
    },
  });
  const code = await runCampaignCli([...args, '--time-zone', 'America/New_York'], {
    env: { ...cliEnv(stack), ...env },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    progressStream,
    pollMs: 50,
  });
  return { code, out: out.join('\n'), err: err.join('\n'), progress };
}

/** Reads a results file back as rows of named cells (csv-parse, the file's own delimiter). */
export function readResults(file: string): { raw: string; rows: Array<Record<string, string>> } {
  const raw = fs.readFileSync(file, 'utf8');
  const text = raw.replace(/^\uFEFF/, '');
  const delimiter = text.split('\n', 1)[0]!.includes(';') ? ';' : ',';
  const rows = parse(text, { columns: true, delimiter }) as Array<Record<string, string>>;
  return { raw, rows };
}

/** The plan's line of one key in a dry-run table. */
export function planLine(out: string, key: string): string {
  return out.split('\n').find((l) => l.split(/\s+/)[1] === key) ?? '';
}
