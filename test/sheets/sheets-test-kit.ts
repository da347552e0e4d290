/** Shared setup for Sheets tests: a fake with a throwaway service account, and a real googleapis client against it. */
import { startSheetsFake, type SheetsFake, type SheetsFakeOptions } from '../../src/sandbox/sheets-fake';
import { createSheetsClient, type SheetsClient, type SheetsClientOptions } from '../../src/sheets/sheets-client';
import { WriteBackFlusher, type WriteBackFlusherOptions } from '../../src/sheets/write-back-flusher';
import { systemClock } from '../../src/clock';
import { silentLogger } from '../../src/logger';
import { makeFakeServiceAccount, withTokenUri, type FakeServiceAccount } from './fake-service-account';

export interface SheetsKit {
  fake: SheetsFake;
  sa: FakeServiceAccount;
  client(opts?: Partial<Omit<SheetsClientOptions, 'rootUrl'>>): SheetsClient;
}

let cachedSa: FakeServiceAccount | undefined;

/** Starts a fake that verifies the account's JWT signatures; the key pair is made once per test file. */
export async function startSheetsKit(opts: SheetsFakeOptions = {}): Promise<SheetsKit> {
  cachedSa ??= makeFakeServiceAccount();
  const sa = cachedSa;
  const fake = await startSheetsFake({ serviceAccountPublicKey: sa.publicKeyPem, ...opts });
  return {
    fake,
    sa,
    client: (o = {}) =>
      createSheetsClient({
        rootUrl: fake.url,
        credentials: o.credentials ?? { serviceAccount: withTokenUri(sa, fake.tokenUrl) },
        retry: { attempts: 8, baseDelayMs: 2, maxDelayMs: 20, ...o.retry },
        budget: o.budget,
        readBudget: o.readBudget,
        timeoutMs: o.timeoutMs,
        closed: o.closed,
        sleep: o.sleep,
      }),
  };
}

/** CSV text of a posts sheet with `n` rows keyed k001.. and the given extra header cells. */
export function postsCsv(n: number, header = ['Key', 'Content', 'Platform']): string {
  const lines = [header.join(',')];
  for (let i = 1; i <= n; i++) {
    const key = `k${String(i).padStart(3, '0')}`;
    lines.push([key, `Post number ${i}`, i % 2 ? 'x' : 'linkedin'].concat(header.slice(3).map(() => '')).join(','));
  }
  return lines.join('\n') + '\n';
}

/** A flusher of `store` through `client` (system clock, silent logger, every 3 s or 200 results), `extra` on top. */
export function kitFlusher(
  store: WriteBackFlusherOptions['store'],
  client: SheetsClient,
  extra: Partial<WriteBackFlusherOptions> = {},
): WriteBackFlusher {
  return new WriteBackFlusher({
    store,
    sheetsFor: () => client,
    clock: systemClock,
    logger: silentLogger,
    flushEveryMs: 3000,
    flushRows: 200,
    ...extra,
  });
}
