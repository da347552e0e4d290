/** Writes dry-run verdicts (Status and Error) into their rows in one batch, finding rows by key as the flusher does. */
import type { SheetsClient } from './sheets-client';
import { duplicateKeyMessage, planCellWrites, rowsByKey, withOutputColumns } from './write-back-plan';

/** One row's dry-run verdict as the sheet shows it. */
export interface DryRunVerdictCell {
  key: string;
  status: string;
  error: string;
}

/** One read of header, keys, Status and Error, then one RAW batchUpdate; keys not found are reported, never guessed. */
export async function writeDryRunVerdicts(
  client: SheetsClient,
  spreadsheetId: string,
  sheetName: string,
  verdicts: DryRunVerdictCell[],
): Promise<{ written: number; missingKeys: string[]; duplicateKeys: string[] }> {
  const current = await client.readColumns(spreadsheetId, sheetName, ['Status', 'Error']);
  const rows = rowsByKey(current.keys);
  const byKey = new Map(verdicts.map((v) => [v.key.trim(), v]));
  const missingKeys = [...byKey.keys()].filter((k) => !rows.has(k));
  const duplicateKeys = [...byKey.keys()].filter((k) => (rows.get(k)?.length ?? 0) > 1);
  const { header, writes: headerWrites } = withOutputColumns(current.header, sheetName, ['Status', 'Error']);
  const { writes } = planCellWrites(sheetName, header, current, (key): Record<string, string> | null => {
    const v = byKey.get(key);
    if (!v) return null;
    const at = rows.get(key) ?? [];
    if (at.length > 1) return { Error: duplicateKeyMessage(key, at) };
    return { Status: v.status, Error: v.error };
  });
  if (headerWrites.length + writes.length > 0) await client.batchWrite(spreadsheetId, [...headerWrites, ...writes]);
  return { written: byKey.size - missingKeys.length - duplicateKeys.length, missingKeys, duplicateKeys };
}
