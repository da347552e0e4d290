/**
 * close() logs which Sheets work the stop leaves for the next start; that report reads the ledger. When the read
 * fails, the stop must still close the tier (the ledger, Redis, the WAL checkpointer): before, the report ran in the
 * same try just before tier.close(), so its error left them all open.
 */
import { startSheetsFake, type SheetsFake } from '../../src/sandbox/sheets-fake';
import { createLogger } from '../../src/logger';
import { makeFakeServiceAccount, withTokenUri } from '../sheets/fake-service-account';
import { startKit } from '../runs/publish-test-kit';

describe('close() when the report of the Sheets work left undone fails', () => {
  let fake: SheetsFake | undefined;

  afterAll(async () => {
    await fake?.close();
  });

  test('still closes the tier, says the report failed, and resolves', async () => {
    const sa = makeFakeServiceAccount();
    fake = await startSheetsFake({ serviceAccountPublicKey: sa.publicKeyPem });
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const kit = await startKit({
      env: {
        SHEETS_API_URL: fake.url,
        GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(withTokenUri(sa, fake.tokenUrl)),
        WRITEBACK_FLUSH_MS: '600000',
      },
      overrides: { logger },
    });
    expect(kit.service.flusher).toBeDefined();
    await kit.service.ledger.ping();
    // The report's ledger read fails (as a lost database connection would make it).
    kit.service.writeBackStore.spreadsheetsWithPendingWrites = () => Promise.reject(new Error('ledger read failed'));

    await kit.close();

    // The ledger is closed: its database handle is gone.
    await expect(kit.service.ledger.ping()).rejects.toThrow();
    const warned = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => /could not tell which Sheets work/.test(String(l.msg)));
    expect(warned).toMatchObject({ err: { message: 'ledger read failed' } });
  });
});
