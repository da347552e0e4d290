/**
 * A run ends when its last row finishes, and that check can be lost: the process stopped between the row's result
 * and the check, or the check failed. The embedded dispatcher looks for runs left running with nothing to send (at
 * start, then every few seconds) and ends them, as the scale-out sweep does: otherwise such a run kept its sheet lock
 * and sealed API key, and the sidebar polled it for ever. The real service on SQLite and the Postato sandbox.
 */
import { goodRows, startKit, type Kit } from './publish-test-kit';
import { inspectLedgerDb } from '../../src/ledger/run-ledger';

jest.setTimeout(60_000);

describe('embedded dispatcher: runs whose end was not recorded', () => {
  let kit: Kit | undefined;
  afterEach(async () => {
    await kit?.close();
    kit = undefined;
  });

  it('when every row of a run finished but the run was left running, then the dispatcher ends it', async () => {
    kit = await startKit({ overrides: { startDispatcher: false } });
    const res = await kit.run('publish', goodRows(3, 'unended'), { spreadsheetId: 'sheet-unended' });
    expect(res.status).toBe(202);
    const runId = res.body.runId as string;
    // Every row gets its result as after its call, but the run's end check never happens (the process stopped).
    const rows = await inspectLedgerDb(kit.service.ledger)
      .selectFrom('run_rows')
      .select('id')
      .where('run_id', '=', runId)
      .execute();
    for (const r of rows)
      await kit.service.ledger.setResult(r.id, { state: 'created', sheetStatus: 'SCHEDULED', postId: `p-${r.id}` });
    expect((await kit.status(runId)).state).toBe('running');

    kit.service.dispatcher.start();
    expect((await kit.waitDone(runId, 15_000)).state).toBe('done');
    expect(await kit.service.ledger.getRun(runId)).toMatchObject({ state: 'done', api_key_sealed: null });
  });
});
