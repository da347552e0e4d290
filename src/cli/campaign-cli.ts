/**
 * `npm run campaign -- dry-run|publish FILE.csv` (and the `postato-campaign` bin): sends a CSV with the sheet's columns
 * to a running postato-sheets service, prints the plan or follows the run with a progress bar, and writes the results
 * into FILE.results.csv. Running publish on the results file sends only what is not posted yet. Results and the plan go
 * to stdout, progress and errors to stderr.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { Command, InvalidArgumentError } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import type { RunStatusResponse } from '../../appsscript/shared/contract';
import { isValidZone } from '../plan/cell-time-parser';
import { readCampaignCsv } from './campaign-csv-reader';
import type { DateOrder } from './campaign-dates';
import { CampaignError } from './campaign-errors';
import { loadCampaignSettings } from './campaign-settings';
import { createCampaignServiceClient, type CampaignServiceClient } from './campaign-service-client';
import { followRun } from './campaign-run-follower';
import { dryRunLines, publishLines, summaryLines } from './campaign-report-printer';
import {
  applyResults,
  campaignIdOf,
  fillBlankKeys,
  prepareTable,
  stampCampaignId,
  tableRows,
  toRunRequest,
} from './campaign-rows';
import { campaignBaseName, isResultsFile, resultsPathFor, writeResultsFile } from './campaign-results-writer';

/** Where the command writes, and what it reads besides the file. */
export interface CampaignCliDeps {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** The stream the progress bar draws on (default process.stderr). */
  progressStream?: Writable & { isTTY?: boolean };
  /** Time between status polls (default 1 s). */
  pollMs?: number;
  /** Replaces the HTTP client (unit tests). */
  client?: CampaignServiceClient;
}

interface CommandOptions {
  workspace?: string;
  timeZone?: string;
  dateOrder?: DateOrder;
}

/** The X-User-Id the add-on sends per user; the command's default is this computer's login, as `cli-<name>`. */
function defaultUserId(): string {
  let name = '';
  try {
    name = os.userInfo().username;
  } catch {
    // No login name (some containers): all such callers share one user.
  }
  const clean = name.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 60);
  return clean ? `cli-${clean}` : 'cli';
}

function dateOrderOption(value: string): DateOrder {
  const v = value.toLowerCase();
  if (v !== 'dmy' && v !== 'mdy') throw new InvalidArgumentError('use dmy (day/month/year) or mdy (month/day/year).');
  return v;
}

/** Reads, checks and prepares the file in memory: keys filled, the campaign id on every row; nothing is written. */
function loadCampaign(file: string, opts: CommandOptions, apiKey: string, workspaceId: string) {
  const label = path.basename(file);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new CampaignError(`Cannot read ${file}: check the path.`);
  }
  const csv = readCampaignCsv(bytes, label);
  const table = prepareTable(csv, label);
  const filled = fillBlankKeys(table);
  const campaignId = campaignIdOf(table, { apiKey, workspaceId, baseName: campaignBaseName(file) });
  stampCampaignId(table, campaignId);
  const timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!isValidZone(timeZone))
    throw new CampaignError(`--time-zone ${timeZone} is not an IANA time zone (e.g. America/New_York).`);
  return { label, csv, table, filled, campaignId, timeZone };
}

/** Builds the commander program; every action resolves to the exit code. */
function buildProgram(deps: CampaignCliDeps, setExit: (code: number) => void): Command {
  const program = new Command('postato-campaign')
    .description(
      'Dry-run or publish a campaign CSV (the sheet contract columns) through a running postato-sheets service.',
    )
    .exitOverride();
  program.configureOutput({ writeOut: (s) => deps.out(s.trimEnd()), writeErr: (s) => deps.err(s.trimEnd()) });

  const withCommon = (cmd: Command) =>
    cmd
      .option('--workspace <id>', 'Postato workspace id (default: POSTATO_WORKSPACE_ID)')
      .option('--time-zone <zone>', "IANA zone of times without one (default: this computer's zone)")
      .option(
        '--date-order <order>',
        'how dates with slashes are written: dmy or mdy (default: from the file)',
        dateOrderOption,
      );

  const setup = (opts: CommandOptions) => {
    const settings = loadCampaignSettings(deps.env);
    const workspaceId = opts.workspace ?? settings.POSTATO_WORKSPACE_ID;
    if (!workspaceId) throw new CampaignError('Name the Postato workspace: --workspace <id> or POSTATO_WORKSPACE_ID.');
    const client =
      deps.client ??
      createCampaignServiceClient({
        baseUrl: settings.POSTATO_SHEETS_SERVICE_URL,
        sharedSecret: settings.AUTH_SHARED_SECRET,
        apiKey: settings.POSTATO_API_KEY,
        userId: settings.POSTATO_SHEETS_USER_ID ?? defaultUserId(),
      });
    return { settings, workspaceId, client };
  };

  withCommon(program.command('dry-run').argument('<file>', 'the campaign CSV'))
    .description('Check every row and print the plan; nothing is sent and no file is written.')
    .action(async (file: string, opts: CommandOptions) => {
      const { settings, workspaceId, client } = setup(opts);
      const c = loadCampaign(file, opts, settings.POSTATO_API_KEY, workspaceId);
      const { request, dates } = toRunRequest(c.table, {
        mode: 'dry-run',
        campaignId: c.campaignId,
        sheetName: c.label,
        workspaceId,
        timeZone: c.timeZone,
        dateOrder: opts.dateOrder,
        delimiter: c.csv.format.delimiter,
      });
      deps.err(`Dry run of ${c.label}: ${request.rows.length} rows, times in ${c.timeZone}, campaign ${c.campaignId}.`);
      if (dates.ambiguous) deps.err(dates.reason);
      if (c.filled > 0)
        deps.err(`${c.filled} rows have no Key: publish writes new keys into ${path.basename(resultsPathFor(file))}.`);
      const res = await client.dryRun(request);
      for (const line of dryRunLines(res)) deps.out(line);
      setExit(res.summary.invalid > 0 ? 1 : 0);
    });

  withCommon(
    program.command('publish').argument('<file>', 'the campaign CSV, or its .results.csv to re-run what failed'),
  )
    .description('Publish the rows not posted yet, follow the run and write FILE.results.csv.')
    .action(async (file: string, opts: CommandOptions) => {
      const { settings, workspaceId, client } = setup(opts);
      const resultsFile = resultsPathFor(file);
      if (!isResultsFile(file) && fs.existsSync(resultsFile)) {
        throw new CampaignError(
          `${path.basename(resultsFile)} already exists from an earlier publish of this file: publish ${path.basename(resultsFile)} instead (it holds the keys and post IDs, so only what is not posted yet is sent). To start a separate campaign, move it away first.`,
        );
      }
      const c = loadCampaign(file, opts, settings.POSTATO_API_KEY, workspaceId);
      const { request, dates } = toRunRequest(c.table, {
        mode: 'publish',
        campaignId: c.campaignId,
        sheetName: c.label,
        workspaceId,
        timeZone: c.timeZone,
        dateOrder: opts.dateOrder,
        delimiter: c.csv.format.delimiter,
      });
      if (dates.ambiguous) deps.err(dates.reason);
      // Keys and the campaign id are in the results copy before anything is sent, so a later run finds the same rows.
      writeResultsFile(resultsFile, tableRows(c.table), c.csv.format);
      if (c.filled > 0) deps.err(`Filled ${c.filled} blank Key cells in ${path.basename(resultsFile)}.`);
      const accepted = await client.publish(request);
      if (accepted.summary) for (const line of summaryLines(accepted.summary)) deps.err(line);
      deps.err(
        accepted.joined
          ? `Joined run ${accepted.runId}, already going for this campaign.`
          : `Run ${accepted.runId} started (campaign ${c.campaignId}).`,
      );
      const bar = progressBar(deps);
      let shown = false;
      const followed = await followRun(client, accepted.runId, {
        pollMs: deps.pollMs,
        onProgress: (status: RunStatusResponse) => {
          const payload = { state: status.state, ...status.counts };
          const done = status.counts.total - status.counts.pending;
          if (!shown) bar.start(status.counts.total, done, payload);
          else {
            bar.setTotal(status.counts.total);
            bar.update(done, payload);
          }
          shown = true;
          if (status.results.length > 0) {
            // Keep the copy current while the run goes, so an interrupted command still leaves every result so far.
            applyResults(c.table, status.results, accepted.runId);
            writeResultsFile(resultsFile, tableRows(c.table), c.csv.format);
          }
        },
      });
      bar.stop();
      const missing = applyResults(c.table, followed.results.values(), accepted.runId);
      writeResultsFile(resultsFile, tableRows(c.table), c.csv.format);
      if (missing.length > 0)
        deps.err(`${missing.length} results name keys no longer in the file (${missing.slice(0, 5).join(', ')}).`);
      for (const line of publishLines(followed.final, followed.results.values(), resultsFile)) deps.out(line);
      const needFix = [...followed.results.values()].some((r) => ['FAILED', 'INVALID', 'REJECTED'].includes(r.status));
      setExit(needFix || followed.final.state !== 'done' ? 1 : 0);
    });
  return program;
}

function progressBar(deps: CampaignCliDeps): SingleBar {
  const stream = deps.progressStream ?? process.stderr;
  return new SingleBar(
    {
      stream,
      format:
        'Publishing |{bar}| {value}/{total} rows | {created} created, {failed} failed, {skipped} skipped | {state}',
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: stream.isTTY === true,
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
}

/**
 * Runs the command with `argv` (without node and the script) and resolves to the exit code: 0 done, 1 rows need a fix
 * (INVALID or FAILED) or the run did not finish, 2 the file, the settings or the service stopped it.
 */
export async function runCampaignCli(argv: string[], deps: CampaignCliDeps): Promise<number> {
  let code = 0;
  const program = buildProgram(deps, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CampaignError) {
      deps.err(err.message);
      return err.exitCode;
    }
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    deps.err(`Unexpected error: ${(err as Error)?.message ?? String(err)}`);
    return 2;
  }
}

/** The process entry (npm run campaign, and the bin through dist/). */
export function main(): void {
  void runCampaignCli(process.argv.slice(2), {
    env: process.env,
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
  }).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) main();
