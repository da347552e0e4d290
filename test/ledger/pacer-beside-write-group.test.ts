/**
 * The SQLite pacer shares the ledger's file and connection. A grouped ledger transaction stays open across awaits, so
 * a pacer decision taken meanwhile must not become part of it: if the group rolled back, the reservation would vanish
 * with it and the tenant could be sent more than Postato's limit.
 */
import { ManualClock } from '../../src/clock';
import { sqlitePacerOn } from '../../src/ledger/open-ledger';
import { WriteGroup } from '../../src/ledger/write-group';
import { sqliteLedgerDbPerFile } from './ledger-fixtures';

const ledgerDb = sqliteLedgerDbPerFile();

const ONE_PER_MINUTE = {
  create: { limit: 1, windowMs: 60_000 },
  write: { limit: 1, windowMs: 60_000 },
  safetyMargin: 0,
};

test('when a grouped ledger write rolls back while the pacer reserves a slot, then the slot stays reserved', async () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const pacer = sqlitePacerOn(ledgerDb(), ONE_PER_MINUTE, clock)!;
  const group = new WriteGroup(ledgerDb().db, true);

  let insideGroup!: () => void;
  const groupOpen = new Promise<void>((resolve) => (insideGroup = resolve));
  let letGroupGoOn!: () => void;
  const groupMayGoOn = new Promise<void>((resolve) => (letGroupGoOn = resolve));

  // Two writes in one group: the first holds the transaction open across an await, the second fails it.
  const first = group.run(async (trx) => {
    await trx.deleteFrom('active_sheets').where('run_id', '=', 'no-such-run').execute();
    insideGroup();
    await groupMayGoOn;
    return 'first';
  });
  const second = group.run(async () => {
    throw new Error('this write fails, so the whole group rolls back');
  });

  await groupOpen;
  const reserved = pacer.tryAcquire('tenant-a', 'create');
  letGroupGoOn();

  await expect(first).resolves.toBe('first');
  await expect(second).rejects.toThrow('this write fails');
  expect((await reserved).ok).toBe(true);
  // The limit is one per minute and no time has passed: the slot taken above must still count.
  expect((await pacer.tryAcquire('tenant-a', 'create')).ok).toBe(false);
});
