/** GET /v1/runs/:id/report: the end-of-run report, visible to the run's owner and admins (404 for anyone else). */
import { Router } from 'express';
import type { Clock } from '../clock';
import { getIdentity } from './identity';
import { requireRunAccess } from '../runs/run-access';
import type { RunLedger } from '../ledger/run-ledger';
import type { Identity } from '../runs/identity';
import { reportOf } from '../runs/run-report';

/** What the report router needs. */
export interface RunReportRouterDeps {
  ledger: RunLedger;
  clock: Clock;
  /** Throws unless the caller proved they can edit the run's spreadsheet (absent: the service has no Sheets access). */
  requireSheetProof?: (identity: Identity, spreadsheetId: string) => Promise<void>;
}

/** Builds the router serving GET /v1/runs/:id/report. */
export function createRunReportRouter(deps: RunReportRouterDeps): Router {
  const router = Router();
  router.get('/v1/runs/:id/report', async (req, res) => {
    const identity = getIdentity(res);
    const run = await deps.ledger.getRun(String(req.params.id));
    requireRunAccess(identity, run ? { ownerSubject: run.owner_subject } : undefined);
    await deps.requireSheetProof?.(identity, run!.spreadsheet_id);
    res.json(await reportOf(deps.ledger, run!, deps.clock.now()));
  });
  return router;
}
