/**
 * A stand-in for the postato-sheets service in the browser test, used until src/service.ts (buildService) lands:
 * it answers the fixed endpoints with the contract's types, moves a publish run forward one row per status poll,
 * and writes Status / Post ID into the sheet's cells as the real write-back would.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DryRunResponse, RowVerdict, RunRequest, RunStatusResponse } from '../../appsscript/shared/contract';
import type { SheetCells } from './sidebar-harness';

export interface FakeSheetsService {
  url: string;
  requests: Array<{ method: string; path: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

function plan(request: RunRequest): RowVerdict[] {
  const col = (name: string) => request.header.findIndex((h) => String(h).toLowerCase() === name.toLowerCase());
  let slot = 0;
  return request.rows
    .filter((r) => !request.onlyKeys || request.onlyKeys.includes(String(r.values[col('Key')])))
    .map((r) => {
      const content = String(r.values[col('Content')] ?? '').trim();
      const base = { rowNumber: r.rowNumber, key: String(r.values[col('Key')]), platform: String(r.values[col('Platform')]), accountId: String(r.values[col('Account')]) };
      if (content === '') return { ...base, status: 'INVALID', messages: [{ level: 'error', column: 'Content', message: 'Content is empty: write the post text.' }] };
      const at = new Date(Date.UTC(2030, 0, 15, 9) + slot++ * 12 * 3_600_000).toISOString().replace('.000', '');
      return { ...base, status: 'READY', messages: [], plannedAt: at, plannedLocal: at };
    });
}

function dryRun(request: RunRequest): DryRunResponse {
  const rows = plan(request);
  const ok = rows.filter((r) => r.status !== 'INVALID');
  const counts = new Map<string, number>();
  for (const r of ok) {
    const k = `${r.platform}|${r.accountId}|${r.plannedAt!.slice(0, 10)}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return {
    mode: 'dry-run',
    rows,
    summary: {
      total: rows.length,
      ready: ok.length,
      warning: 0,
      invalid: rows.length - ok.length,
      alreadyPosted: 0,
      toSend: ok.length,
      earliest: ok[0]?.plannedAt,
      latest: ok.at(-1)?.plannedAt,
      counts: [...counts].map(([k, count]) => {
        const [platform, accountId, day] = k.split('|') as [string, string, string];
        return { platform, accountId, day, count };
      }),
      warnings: [],
      collisions: [],
      accountsChecked: true,
      collisionsChecked: true,
      estimatedPublishSeconds: ok.length,
      pacing: 'Creations are spread just under 120 per minute.',
    },
  };
}

/** Starts the stand-in service; `sharedSecret` is what the add-on must send in x-shared-secret. */
export async function startFakeSheetsService(opts: { cells: SheetCells; sharedSecret: string }): Promise<FakeSheetsService> {
  const requests: FakeSheetsService['requests'] = [];
  let run: { id: string; request: RunRequest; rows: RowVerdict[]; done: number; polls: number; cancelled: boolean } | null = null;

  const writeResult = (v: RowVerdict) => {
    const cells = opts.cells.read();
    const header = (cells[0] ?? []).map((h) => String(h).toLowerCase());
    const rowIndex = cells.findIndex((r, i) => i > 0 && String(r[header.indexOf('key')]) === v.key);
    if (rowIndex < 0) return;
    opts.cells.write(rowIndex + 1, header.indexOf('status') + 1, [[v.status === 'INVALID' ? 'INVALID' : 'SCHEDULED']]);
    if (v.status !== 'INVALID') opts.cells.write(rowIndex + 1, header.indexOf('post id') + 1, [[`pst_${v.key}`]]);
  };

  const status = (): RunStatusResponse => {
    const r = run!;
    const created = r.rows.slice(0, r.done).filter((v) => v.status !== 'INVALID').length;
    const skipped = r.rows.slice(0, r.done).length - created;
    const state = r.cancelled ? 'cancelled' : r.done >= r.rows.length ? 'done' : 'running';
    return {
      runId: r.id, mode: r.request.mode, state, spreadsheetId: r.request.spreadsheetId, sheetName: r.request.sheetName,
      counts: { total: r.rows.length, pending: r.rows.length - r.done, sent: created, created, failed: 0, skipped },
      startedAt: '2030-01-01T00:00:00Z', etaSeconds: r.rows.length - r.done, results: [], cursor: String(r.done),
    };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      requests.push({ method: req.method!, path, headers: req.headers });
      const send = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.headers['x-shared-secret'] !== opts.sharedSecret || !req.headers['x-user-id']) {
        return send(401, { error: 'unauthorized', message: 'Sign-in is required.' });
      }
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as RunRequest) : undefined;
      if (req.method === 'POST' && path === '/v1/runs') {
        if (!/^smcp_[0-9a-f]{64}$/.test(String(req.headers['x-postato-api-key']))) return send(401, { error: 'unauthorized', message: 'The Postato API key is missing or malformed.' });
        if (body!.mode === 'dry-run') return send(200, dryRun(body!));
        run = { id: 'run_e2e', request: body!, rows: plan(body!), done: 0, polls: 0, cancelled: false };
        return send(202, { runId: run.id, joined: false });
      }
      if (req.method === 'GET' && run && path === `/v1/runs/${run.id}`) {
        // One more row per poll, so the sidebar shows real intermediate progress.
        if (!run.cancelled && run.done < run.rows.length) writeResult(run.rows[run.done++]!);
        return send(200, status());
      }
      if (req.method === 'POST' && run && path === `/v1/runs/${run.id}/cancel`) {
        run.cancelled = true;
        return send(200, status());
      }
      if (path === '/v1/sheets/service-account') return send(200, { email: 'writer@postato-demo.iam.gserviceaccount.com' });
      if (path === '/v1/sheets/check-access') return send(200, { canEdit: true });
      return send(404, { error: 'not_found', message: 'No such endpoint.' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
