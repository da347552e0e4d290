/** GET /v1/runs/:id (progress and results since a cursor), POST /v1/runs/:id/cancel and POST /v1/runs/:id/sync. */
import { Router } from 'express';
import { getIdentity } from './identity';
import type { RunService } from '../runs/run-service';
import type { WriteBackStore } from '../sheets/write-back-store';

export interface RunControlRouterDeps {
  runs: Pick<RunService, 'getStatus' | 'cancel' | 'assertVisible'>;
  writeBack: Pick<WriteBackStore, 'requeueRun'>;
  /** Wakes the write-back flusher after a sync request. */
  onSync?: () => void;
}

/** Builds the router for reading and controlling runs. */
export function createRunControlRouter(deps: RunControlRouterDeps): Router {
  const router = Router();

  router.get('/v1/runs/:id', async (req, res) => {
    const since = typeof req.query.since === 'string' ? req.query.since : undefined;
    res.json(await deps.runs.getStatus(getIdentity(res), String(req.params.id), since));
  });

  router.post('/v1/runs/:id/cancel', async (req, res) => {
    res.json(await deps.runs.cancel(getIdentity(res), String(req.params.id)));
  });

  router.post('/v1/runs/:id/sync', async (req, res) => {
    const runId = String(req.params.id);
    await deps.runs.assertVisible(getIdentity(res), runId);
    const requeued = await deps.writeBack.requeueRun(runId);
    deps.onSync?.();
    res.status(202).json({ runId, requeued });
  });
  return router;
}
