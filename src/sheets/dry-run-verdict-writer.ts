/**
 * After a dry run, the verdicts go into the sheet too (Status and Error, one batch), so the manager sees them in the
 * rows. Rows that already have a post keep the status the write-back gave them, unless they are CHANGED. Failures are logged, never thrown:
 * the dry run has already been answered.
 */
import type { Logger } from '../logger';
import type { RunRequest } from '../../appsscript/shared/contract';
import type { PlannedRun } from '../plan/sheet-planner';
import type { SheetsClient } from './sheets-client';
import { writeDryRunVerdicts, type DryRunVerdictCell } from './dry-run-write';
import { hasGoogleSheet } from '../plan/campaign-source';

export interface DryRunVerdictWriter {
  /** Starts writing the verdicts of one dry run in the background. */
  write(request: RunRequest, planned: PlannedRun): void;
  /** Resolves when every write started so far has finished (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * The cells a dry run writes: rows with a key and no post yet (errors and warnings joined into the Error cell), and
 * rows whose post differs from the sheet (CHANGED, with what to do). Other posted rows keep SCHEDULED, PUBLISHED, ….
 */
export function verdictCells(planned: PlannedRun): DryRunVerdictCell[] {
  return planned.rows
    .filter((r) => r.key !== null && (!r.postId || r.verdict.changed))
    .map((r) => ({
      key: r.key!,
      status: r.verdict.changed ? 'CHANGED' : r.verdict.status,
      error: r.verdict.messages
        .filter((m) => m.level !== 'info' || r.verdict.changed)
        .map((m) => m.message)
        .join(' '),
    }));
}

export function createDryRunVerdictWriter(deps: { sheets: SheetsClient; logger: Logger }): DryRunVerdictWriter {
  const pending = new Set<Promise<void>>();
  return {
    write(request, planned) {
      if (!hasGoogleSheet(request.spreadsheetId)) return; // a CSV campaign: the verdicts are only in the answer
      const cells = verdictCells(planned);
      if (cells.length === 0) return;
      const job = writeDryRunVerdicts(deps.sheets, request.spreadsheetId, request.sheetName, cells)
        .then((out) => {
          if (out.missingKeys.length > 0)
            deps.logger.info(
              { spreadsheetId: request.spreadsheetId, missing: out.missingKeys.length },
              'dry-run verdicts: some keys are no longer in the sheet',
            );
        })
        .catch((err: unknown) => {
          deps.logger.warn(
            { spreadsheetId: request.spreadsheetId, err: { message: (err as Error)?.message } },
            'dry-run verdicts could not be written to the sheet',
          );
        })
        .finally(() => pending.delete(job));
      pending.add(job);
    },
    async idle() {
      await Promise.all([...pending]);
    },
  };
}
