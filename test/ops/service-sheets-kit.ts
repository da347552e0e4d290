/**
 * A Sheets fake for a service under test: a throwaway service account the fake trusts, the service's environment for
 * it (write-back every `flushMs`), and the publish kit's rows loaded as the posts sheet.
 */
import { startSheetsFake, type SheetsFake } from '../../src/sandbox/sheets-fake';
import { makeFakeServiceAccount, withTokenUri, type FakeServiceAccount } from '../sheets/fake-service-account';
import { HEADER, rowsOf, type KitRow } from '../runs/publish-test-kit';

export interface ServiceSheets {
  fake: SheetsFake;
  sa: FakeServiceAccount;
  env: Record<string, string>;
}

/** Starts the fake; with `rows`, they are the sheet `spreadsheetId` (default sheet-kit), tab Posts. */
export async function startServiceSheets(
  o: { rows?: KitRow[]; spreadsheetId?: string; flushMs?: number } = {},
): Promise<ServiceSheets> {
  const sa = makeFakeServiceAccount();
  const fake = await startSheetsFake({ serviceAccountPublicKey: sa.publicKeyPem });
  const env = {
    SHEETS_API_URL: fake.url,
    GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(withTokenUri(sa, fake.tokenUrl)),
    WRITEBACK_FLUSH_MS: String(o.flushMs ?? 600_000),
  };
  if (o.rows) fake.loadCsv(o.spreadsheetId ?? 'sheet-kit', 'Posts', kitRowsCsv(o.rows));
  return { fake, sa, env };
}

/** The kit's rows as the CSV of a posts sheet (its header, then one line per row). */
export function kitRowsCsv(rows: KitRow[]): string {
  return [HEADER, ...rowsOf(rows).map((r) => r.values.map(String))].map((cells) => cells.join(',')).join('\n') + '\n';
}
