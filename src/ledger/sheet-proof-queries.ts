/** Challenges and bindings of the proof of access to a spreadsheet (tables sheet_proof_challenges, sheet_bindings). */
import type { Kysely } from 'kysely';
import type { LedgerDatabase } from './ledger-schema';

/** A challenge as the ledger keeps it (its hash only). */
export interface StoredChallenge {
  challengeHash: string;
  subject: string;
  spreadsheetId: string;
  expiresAt: number;
}

/** Where challenges and bindings live (implemented here over the ledger; the proof in runs/sheet-proof.ts uses it). */
export interface SheetProofStore {
  /** Keeps a new challenge (and drops the expired ones). */
  saveChallenge(challenge: StoredChallenge, now: number): Promise<void>;
  findChallenge(challengeHash: string): Promise<StoredChallenge | undefined>;
  /** Deletes a challenge; true only for the one call that deleted it (a challenge proves once). */
  consumeChallenge(challengeHash: string): Promise<boolean>;
  bind(binding: { subject: string; spreadsheetId: string; provenAt: number; expiresAt: number }): Promise<void>;
  /** When the caller's binding to the spreadsheet ends, if there is one. */
  bindingExpiresAt(subject: string, spreadsheetId: string): Promise<number | undefined>;
}

/** SheetProofStore over the ledger. */
export function createSheetProofQueries(db: Kysely<LedgerDatabase>): SheetProofStore {
  return {
    async saveChallenge(c, now) {
      // Expired challenges are of no use to anyone: each new one sweeps them, so the table stays small.
      await db.deleteFrom('sheet_proof_challenges').where('expires_at', '<=', now).execute();
      await db
        .insertInto('sheet_proof_challenges')
        .values({
          challenge_hash: c.challengeHash,
          subject: c.subject,
          spreadsheet_id: c.spreadsheetId,
          expires_at: c.expiresAt,
        })
        .execute();
    },
    async findChallenge(challengeHash) {
      const r = await db
        .selectFrom('sheet_proof_challenges')
        .selectAll()
        .where('challenge_hash', '=', challengeHash)
        .executeTakeFirst();
      return r
        ? { challengeHash, subject: r.subject, spreadsheetId: r.spreadsheet_id, expiresAt: Number(r.expires_at) }
        : undefined;
    },
    async consumeChallenge(challengeHash) {
      const res = await db
        .deleteFrom('sheet_proof_challenges')
        .where('challenge_hash', '=', challengeHash)
        .executeTakeFirst();
      return Number(res.numDeletedRows) === 1;
    },
    async bind(b) {
      await db
        .insertInto('sheet_bindings')
        .values({
          subject: b.subject,
          spreadsheet_id: b.spreadsheetId,
          proven_at: b.provenAt,
          expires_at: b.expiresAt,
        })
        .onConflict((oc) =>
          oc.columns(['subject', 'spreadsheet_id']).doUpdateSet({ proven_at: b.provenAt, expires_at: b.expiresAt }),
        )
        .execute();
    },
    async bindingExpiresAt(subject, spreadsheetId) {
      const r = await db
        .selectFrom('sheet_bindings')
        .select('expires_at')
        .where('subject', '=', subject)
        .where('spreadsheet_id', '=', spreadsheetId)
        .executeTakeFirst();
      return r ? Number(r.expires_at) : undefined;
    },
  };
}
