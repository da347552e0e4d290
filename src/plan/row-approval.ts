/**
 * The optional Approved column: whether a row's box is ticked, and the fingerprint of the row content a tick approves.
 * The ledger keeps the fingerprint seen with the first tick, so a row edited afterwards no longer matches and waits
 * for a new approval. Pure: the plan reads the verdicts the ledger gave (ApprovalPort).
 */
import { createHash } from 'node:crypto';
import type { CellValue } from '../../appsscript/shared/contract';
import { INPUT_COLUMNS } from '../../appsscript/shared/sheet-columns';
import { canonicalJson } from '../canonical-json';
import { cellText, type ColumnMap, type ColumnName } from './sheet-contract';

/** The cells an approval covers: everything that shapes the post (the Key is the row's identity, not its content). */
const APPROVED_CONTENT: readonly ColumnName[] = INPUT_COLUMNS.filter((c) => c !== 'Key');

/** True for a ticked checkbox (TRUE) and for the ways a CSV or a typed cell says yes. */
export function isApprovedCell(value: CellValue | undefined): boolean {
  if (value === true) return true;
  if (typeof value === 'number') return value === 1;
  if (typeof value !== 'string') return false;
  return ['true', 'yes', 'y', 'x', '✓', '✔', '1', 'approved', 'ok'].includes(value.trim().toLowerCase());
}

/** sha256 (hex) of the row's content cells as text, spaces at the ends ignored. */
export function approvalFingerprint(values: CellValue[], map: ColumnMap): string {
  const content = APPROVED_CONTENT.map((c) => cellText(values, map, c));
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}

/** What the ledger says about a row's approval. */
export interface RowApproval {
  /** approved: ticked and unchanged since; unapproved: not ticked; edited: ticked, but the content changed since. */
  state: 'approved' | 'unapproved' | 'edited';
  /** Who the tick was first seen from, and when (ms), for approved and edited rows. */
  approvedBy?: string;
  approvedAt?: number;
}
