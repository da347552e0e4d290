/**
 * Group commit: ledger writes asked for in the same turn of the event loop (hundreds of calls finish at about the same
 * time) run in one transaction instead of one each. Every caller still resolves only after its write is committed,
 * so "recorded before the call" and "recorded before the row is done" hold exactly as with a transaction per write.
 * If the group's transaction fails, each write is retried in a transaction of its own, so one bad write fails only
 * its own caller.
 */
import type { Kysely, Transaction } from 'kysely';
import type { LedgerDatabase } from './ledger-schema';

type Write<T> = (trx: Transaction<LedgerDatabase>) => Promise<T>;

interface Queued {
  write: Write<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** Writes grouped per event-loop turn, at most `maxGroup` per transaction. */
export class WriteGroup {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Kysely<LedgerDatabase>,
    /** false: every write in a transaction of its own (PostgreSQL, where a long group would hold row locks). */
    private readonly grouped = true,
    private readonly maxGroup = 128,
  ) {}

  /** Runs `write` in the next group transaction; resolves with its result once that transaction has committed. */
  run<T>(write: Write<T>): Promise<T> {
    if (!this.grouped) return this.db.transaction().execute(write);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) void this.commit(this.queue.splice(0, this.maxGroup));
  }

  private async commit(group: Queued[]): Promise<void> {
    if (group.length === 1) return this.alone(group[0]!);
    let results: unknown[];
    try {
      results = await this.db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const q of group) out.push(await q.write(trx));
        return out;
      });
    } catch {
      // Nothing of the group was committed: each write gets its own transaction, and its own error if it has one.
      await Promise.all(group.map((q) => this.alone(q)));
      return;
    }
    group.forEach((q, i) => q.resolve(results[i]));
  }

  private async alone(q: Queued): Promise<void> {
    try {
      q.resolve(await this.db.transaction().execute((trx) => q.write(trx)));
    } catch (err) {
      q.reject(err);
    }
  }
}
