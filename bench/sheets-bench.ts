/**
 * Sheets API requests per 1,000 published rows with the batched write-back, next to what one write per row would
 * cost. Runs the real googleapis client against the Sheets fake; prints ratios, never pass/fail timings.
 */
import { systemClock } from '../src/clock';
import { silentLogger } from '../src/logger';
import { WriteBackFlusher } from '../src/sheets/write-back-flusher';
import { startSheetsKit, postsCsv } from '../test/sheets/sheets-test-kit';
import { InMemoryWriteBackStore } from '../test/sheets/in-memory-write-back-store';

async function main(): Promise<void> {
  const rows = 1000;
  const kit = await startSheetsKit({ quotaPerMinute: 1_000_000 });
  kit.fake.loadCsv('bench', 'Posts', postsCsv(rows));
  const store = new InMemoryWriteBackStore();
  const client = kit.client();
  const flusher = new WriteBackFlusher({
    store,
    sheetsFor: () => client,
    clock: systemClock,
    logger: silentLogger,
    flushEveryMs: 3000,
    flushRows: 200,
  });
  // Results arrive in 5 waves, as a paced run would deliver them between flushes.
  for (let wave = 0; wave < 5; wave++) {
    for (let i = wave * 200 + 1; i <= (wave + 1) * 200; i++) {
      const key = `k${String(i).padStart(3, '0')}`;
      store.put({
        runId: 'r1',
        spreadsheetId: 'bench',
        sheetName: 'Posts',
        rowKey: key,
        values: {
          Status: 'SCHEDULED',
          'Post ID': `pst_${i}`,
          Error: '',
          'Scheduled (UTC)': '2030-01-01T10:00:00Z',
          Link: '',
          Run: 'r1',
          Updated: '2030-01-01T09:00:00Z',
        },
      });
    }
    await flusher.flushNow('bench');
  }
  await flusher.drain('bench');
  const st = kit.fake.stats();
  const apiRequests = st.reads + st.writes;
  const perRowWrites = rows * 2; // one read of the key column and one write per row, at the least
  console.log(`rows written:                 ${store.summary().written}/${rows}`);
  console.log(`Sheets API requests:          ${apiRequests} (${st.reads} reads, ${st.writes} writes)`);
  console.log(`requests per 1,000 rows:      ${((apiRequests / rows) * 1000).toFixed(1)} (target <= 25)`);
  console.log(
    `one write per row would need: ${perRowWrites} requests per 1,000 rows (ratio ${(perRowWrites / apiRequests).toFixed(0)}x)`,
  );
  console.log(
    `writes per minute at 60/min budget: ${st.writes} writes need ${(st.writes / 60).toFixed(2)} min of budget vs ${(rows / 60).toFixed(1)} min`,
  );
  await kit.fake.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
