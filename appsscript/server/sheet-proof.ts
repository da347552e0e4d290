/**
 * Proves to the service that the user can edit this spreadsheet, with no scope beyond spreadsheets.currentonly: the
 * service hands out a short-lived challenge, the add-on writes it as developer metadata on the spreadsheet (only an
 * editor can), and the service reads it back with its service account. The metadata is removed again afterwards.
 */
import type { SheetProofChallenge, SheetProofVerified } from '../shared/contract';
import type { GasSpreadsheet } from './apps-script-types';
import { AddonError, gas } from './apps-script-env';

/** The paths of the proof itself, which never ask for a proof. */
export const PROOF_PATHS = ['/v1/sheets/proof/challenge', '/v1/sheets/proof/verify'];

/** How the proof calls the service (service-client's single request, passed in to keep the modules acyclic). */
export type ProofSender = <T>(path: string, body: unknown) => T;

/** Removes this challenge's metadata; a leftover one proves nothing (the service uses a challenge once). */
function removeChallenge(ss: GasSpreadsheet, key: string, value: string): void {
  try {
    for (const m of ss.getDeveloperMetadata()) if (m.getKey() === key && m.getValue() === value) m.remove();
  } catch {
    // Best effort: the proof already stands or failed on its own.
  }
}

/** Runs the proof for the active spreadsheet; throws an AddonError with what to do when it cannot be made. */
export function proveSheetAccess(send: ProofSender): SheetProofVerified {
  const ss = gas().SpreadsheetApp.getActiveSpreadsheet();
  const spreadsheetId = ss.getId();
  const c = send<SheetProofChallenge>(PROOF_PATHS[0]!, { spreadsheetId });
  try {
    ss.addDeveloperMetadata(c.metadataKey, c.challenge, gas().SpreadsheetApp.DeveloperMetadataVisibility.DOCUMENT);
  } catch {
    throw new AddonError(
      'Postato needs edit access to this spreadsheet: you can only view it. Ask its owner to make you an editor, then try again.',
    );
  }
  try {
    return send<SheetProofVerified>(PROOF_PATHS[1]!, { spreadsheetId, challenge: c.challenge });
  } finally {
    removeChallenge(ss, c.metadataKey, c.challenge);
  }
}
