/**
 * Proof of access to a spreadsheet. A spreadsheet id is no secret (it is in every shared link), so before the service
 * reads results into, writes into or reports on a spreadsheet for a caller, the caller proves they can edit it: the
 * service hands out a short-lived random challenge bound to the caller and the spreadsheet, the add-on writes it as
 * document-visible developer metadata on the spreadsheet (only an editor can add metadata, and the add-on's
 * spreadsheets.currentonly scope suffices), and the service reads it back with its service account. A verified
 * challenge binds the caller to the spreadsheet for a while (SHEET_PROOF_TTL_HOURS).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { AppError, ForbiddenError } from '../errors';
import type { Identity } from './identity';
import type { SheetsClient } from '../sheets/sheets-client';
import { hasGoogleSheet } from '../plan/campaign-source';
import type { SheetProofStore } from '../ledger/sheet-proof-queries';
import {
  PROOF_REQUIRED,
  SHEET_PROOF_METADATA_KEY,
  type SheetProofChallenge,
  type SheetProofVerified,
} from '../../appsscript/shared/contract';

/** The caller has not proved (or no longer proves) they can edit the spreadsheet: the add-on proves and retries. */
export class ProofRequiredError extends ForbiddenError {
  constructor() {
    super(
      'Prove that you can edit this spreadsheet first: open the Postato sidebar in the spreadsheet and try again (the add-on proves it for you).',
      PROOF_REQUIRED,
    );
  }
}

/** The challenge was not found in the spreadsheet, or is not this caller's for this spreadsheet, or has expired. */
export class ProofFailedError extends ForbiddenError {
  constructor(serviceAccountEmail: string) {
    super(
      `The service could not confirm that you can edit this spreadsheet. Make sure you are an editor of it and that it is shared with ${serviceAccountEmail || 'the service account'} (Share button), then open the sidebar again.`,
      'proof_failed',
    );
  }
}

export interface SheetProofOptions {
  store: SheetProofStore;
  sheets: Pick<SheetsClient, 'findSpreadsheetMetadata' | 'serviceAccountEmail'>;
  clock: Clock;
  logger: Logger;
  /** How long a verified proof binds the caller to the spreadsheet (SHEET_PROOF_TTL_HOURS). */
  bindingTtlMs: number;
  /** How long a challenge may be used (SHEET_PROOF_CHALLENGE_SECONDS). */
  challengeTtlMs: number;
}

/** The proof service's public shape. */
export interface SheetProof {
  challenge(identity: Identity, spreadsheetId: string): Promise<SheetProofChallenge>;
  verify(identity: Identity, spreadsheetId: string, challenge: string): Promise<SheetProofVerified>;
  /** Throws ProofRequiredError unless the caller holds a live binding to the spreadsheet (CSV campaigns pass). */
  require(identity: Identity, spreadsheetId: string): Promise<void>;
}

const hashOf = (challenge: string) => createHash('sha256').update(challenge, 'utf8').digest('hex');

/** Creates the proof service. */
export function createSheetProof(o: SheetProofOptions): SheetProof {
  const log = o.logger.child({ component: 'sheet-proof' });
  return {
    async challenge(identity, spreadsheetId) {
      const challenge = 'psp_' + randomBytes(24).toString('base64url');
      const now = o.clock.now();
      const expiresAt = now + o.challengeTtlMs;
      await o.store.saveChallenge(
        { challengeHash: hashOf(challenge), subject: identity.subject, spreadsheetId, expiresAt },
        now,
      );
      return { challenge, metadataKey: SHEET_PROOF_METADATA_KEY, expiresAt: new Date(expiresAt).toISOString() };
    },

    async verify(identity, spreadsheetId, challenge) {
      const failed = new ProofFailedError(o.sheets.serviceAccountEmail);
      const hash = hashOf(challenge);
      const stored = await o.store.findChallenge(hash);
      // Every refusal reads the same, so a caller learns nothing about a spreadsheet they cannot edit.
      if (
        !stored ||
        stored.subject !== identity.subject ||
        stored.spreadsheetId !== spreadsheetId ||
        stored.expiresAt <= o.clock.now()
      )
        throw failed;
      let values: string[];
      try {
        values = await o.sheets.findSpreadsheetMetadata(spreadsheetId, SHEET_PROOF_METADATA_KEY);
      } catch (err) {
        // A spreadsheet the service cannot read (not shared, or no such id) answers like a missing challenge.
        if (err instanceof AppError && !err.retryable) throw failed;
        throw err;
      }
      if (!values.includes(challenge) || !(await o.store.consumeChallenge(hash))) throw failed;
      const now = o.clock.now();
      const expiresAt = now + o.bindingTtlMs;
      await o.store.bind({ subject: identity.subject, spreadsheetId, provenAt: now, expiresAt });
      log.info({ subject: identity.subject, spreadsheetId }, 'proof of access to a spreadsheet verified');
      return { spreadsheetId, provenUntil: new Date(expiresAt).toISOString() };
    },

    async require(identity, spreadsheetId) {
      if (!hasGoogleSheet(spreadsheetId)) return;
      const until = await o.store.bindingExpiresAt(identity.subject, spreadsheetId);
      if (until === undefined || until <= o.clock.now()) throw new ProofRequiredError();
    },
  };
}
