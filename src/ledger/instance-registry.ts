/**
 * Live dispatcher instances in the ledger (table dispatcher_instances): each one heartbeats here, and claims treat a
 * lease whose owner's heartbeat is stale, or who is not registered, as free.
 */
import type { Kysely } from 'kysely';
import type { LedgerDatabase } from './ledger-schema';

/** Heartbeat records of dispatcher instances. */
export interface InstanceRegistry {
  /** Records (or refreshes) an instance's heartbeat. */
  beat(ownerId: string, now: number): Promise<void>;
  /** Removes an instance: its leases are free for others at once. */
  remove(ownerId: string): Promise<void>;
  /** Deletes instances silent since before `before` (they count as dead anyway; this keeps the table small). */
  prune(before: number): Promise<void>;
}

/** The registry over dispatcher_instances. */
export function createInstanceRegistry(db: Kysely<LedgerDatabase>): InstanceRegistry {
  return {
    async beat(ownerId, now) {
      await db
        .insertInto('dispatcher_instances')
        .values({ owner_id: ownerId, started_at: now, heartbeat_at: now })
        .onConflict((oc) => oc.column('owner_id').doUpdateSet({ heartbeat_at: now }))
        .execute();
    },
    async remove(ownerId) {
      await db.deleteFrom('dispatcher_instances').where('owner_id', '=', ownerId).execute();
    },
    async prune(before) {
      await db.deleteFrom('dispatcher_instances').where('heartbeat_at', '<', before).execute();
    },
  };
}
