/**
 * Applying a change decided from a row's current result (a webhook event, a status refresh) inside the caller's
 * transaction. PostgreSQL runs such transactions concurrently and the row is read without a lock, so the change is
 * written only while the row still has the state and version it was decided on; otherwise it is read and decided
 * again. (A conditional write rather than SELECT … FOR UPDATE: every result write takes the result counter's lock
 * before the row's, and locking the row first would invert that order and deadlock.)
 */
import type { Transaction } from 'kysely';
import type { LedgerDatabase, RunRowsTable } from './ledger-schema';
import type { ResultChange } from './run-ledger';

/** Sets a row's result inside the caller's transaction; false when the change's conditions left the row as it was. */
export type SetResultIn = (trx: Transaction<LedgerDatabase>, rowId: string, change: ResultChange) => Promise<boolean>;

/**
 * Rounds of read, decide and conditional write before giving up. A round is lost only to a result that landed in
 * between, and the first write holds the result counter's lock, so a second round is rare and a third rarer still.
 */
const MAX_ROUNDS = 5;

/**
 * Reads the row (`read`), decides its change (`decide`, undefined for none) and writes it if the row has not changed
 * since it was read, until it lands. Returns the row as decided on and the change written, or undefined for no row.
 */
export async function changeCurrentRow(
  trx: Transaction<LedgerDatabase>,
  setResultIn: SetResultIn,
  read: () => Promise<RunRowsTable | undefined>,
  decide: (row: RunRowsTable) => ResultChange | undefined,
): Promise<{ row: RunRowsTable; change?: ResultChange } | undefined> {
  for (let round = 1; ; round++) {
    const row = await read();
    if (!row) return undefined;
    const change = decide(row);
    if (!change) return { row };
    if (await setResultIn(trx, row.id, { ...change, unchangedSince: row })) return { row, change };
    if (round >= MAX_ROUNDS) throw new Error(`Row ${row.id} kept changing while a result was applied to it.`);
  }
}
