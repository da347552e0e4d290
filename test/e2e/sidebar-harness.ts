/**
 * The browser test's stand-in for Apps Script: serves the built sidebar.html (and picker.html, the Add media from Drive
 * dialog, at /picker) with a google.script.run and google.script.host shim that POSTs each call to /rpc/<name>, runs
 * it in the add-on host worker, and answers the worker's blocking bridge (real HTTP to the service, reads and writes
 * of the sheet's cells).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GasFetchParams, GasMailMessage, RawCell } from '../../appsscript/server/apps-script-types';
import type { MetadataStore, ShownDialog } from '../appsscript/fakes/fake-spreadsheet-app';
import { renderSheetView, type SheetView } from './sheet-view';

/** Where the harness keeps the sheet's cells (plain strings, as the Sheets API returns them). */
export interface SheetCells {
  read(): RawCell[][];
  write(row: number, column: number, values: RawCell[][]): void;
  /** The spreadsheet's developer metadata (the add-on's proof of access writes and removes it). */
  metadata: MetadataStore;
}

export interface HarnessOptions {
  bundleDir: string;
  cells: SheetCells;
  userProperties: Record<string, string>;
  /** The spreadsheet's own settings (workspace, zone, gap, jitter). */
  documentProperties?: Record<string, string>;
  scriptProperties?: Record<string, string>;
  spreadsheetId: string;
  sheetName: string;
  timeZone: string;
}

/** What the harness reports about the fake spreadsheet's active sheet. */
export interface ActiveSheetInfo {
  name: string;
  header: RawCell[];
  validations: Array<{ column: number; row: number; numRows: number; values: string[] | null }>;
}

export interface SidebarHarness {
  url: string;
  /** Row number of the current selection in the fake spreadsheet (null when nothing is selected). */
  selectedRow(): Promise<number | null>;
  /** The fake spreadsheet's active sheet: its name, header row and data validations (the template's dropdowns). */
  activeSheet(): Promise<ActiveSheetInfo>;
  /** Selects whole rows [from, to] of the posts tab, as the user would by clicking row numbers. */
  selectRows(...spans: Array<[number, number]>): Promise<void>;
  /** The dialogs the add-on opened (showModalDialog), oldest first; the page of one is served at `${'${url}'}<file>`. */
  dialogs(): Promise<ShownDialog[]>;
  /** Every email the add-on sent through the fake MailApp, oldest first. */
  sentMail(): Promise<GasMailMessage[]>;
  /** The posts tab as the user would see it (also served as a page at `${'${url}'}sheet`). */
  sheetView(): Promise<SheetView>;
  close(): Promise<void>;
}

const SHIM = `<script>
(function () {
  function runner(onOk, onFail) {
    return new Proxy({}, { get: function (_t, name) {
      if (name === 'withSuccessHandler') return function (h) { return runner(h, onFail); };
      if (name === 'withFailureHandler') return function (h) { return runner(onOk, h); };
      return function () {
        var args = Array.prototype.slice.call(arguments);
        fetch('/rpc/' + String(name), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) })
          .then(function (r) { return r.json(); })
          .then(function (r) { if (r.ok) { if (onOk) onOk(r.value); } else if (onFail) { onFail(new Error(r.message)); } })
          .catch(function (e) { if (onFail) onFail(e); });
      };
    } });
  }
  // google.script.host as in an Apps Script dialog: the page's origin, and close() marks the page closed.
  var host = { origin: location.origin, close: function () { document.documentElement.setAttribute('data-closed', 'true'); } };
  window.google = { script: { run: runner(null, null), host: host } };
})();
</script>`;

async function answerBridge(request: { op: string } & Record<string, unknown>, cells: SheetCells): Promise<unknown> {
  if (request.op === 'read') return cells.read();
  if (request.op === 'metadata-add') {
    const { key, value, visibility } = request as unknown as { key: string; value: string; visibility: 'DOCUMENT' };
    cells.metadata.add(key, value, visibility);
    return null;
  }
  if (request.op === 'metadata-list') return cells.metadata.list();
  if (request.op === 'metadata-remove') {
    cells.metadata.remove(request.id as number);
    return null;
  }
  if (request.op === 'write') {
    cells.write(request.row as number, request.column as number, request.values as RawCell[][]);
    return null;
  }
  const params = request.params as GasFetchParams;
  const response = await fetch(request.url as string, {
    method: params.method.toUpperCase(),
    headers: { ...params.headers, ...(params.contentType ? { 'content-type': params.contentType } : {}) },
    body: params.payload,
    redirect: 'manual',
  });
  return { status: response.status, text: await response.text() };
}

/** Starts the worker host and the loopback page server. */
export async function startSidebarHarness(options: HarnessOptions): Promise<SidebarHarness> {
  const shared = new SharedArrayBuffer(8 + 8 * 1024 * 1024);
  const flag = new Int32Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 8);
  const worker = new Worker(
    `require('tsx/cjs/api').register(); require(${JSON.stringify(path.join(__dirname, 'apps-script-host.worker.ts'))});`,
    {
      eval: true,
      workerData: {
        bundlePath: path.join(options.bundleDir, 'Code.js'),
        shared,
        userProperties: options.userProperties,
        documentProperties: options.documentProperties ?? {},
        scriptProperties: options.scriptProperties ?? {},
        spreadsheetId: options.spreadsheetId,
        timeZone: options.timeZone,
        sheetName: options.sheetName,
      },
    },
  );
  const pending = new Map<number, (answer: { ok: boolean; value?: unknown; message?: string }) => void>();
  let nextId = 1;
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on(
      'message',
      (message: {
        type: string;
        id?: number;
        request?: { op: string } & Record<string, unknown>;
        ok?: boolean;
        value?: unknown;
        message?: string;
      }) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'rpc-result') {
          pending.get(message.id!)?.(message as { ok: boolean });
          pending.delete(message.id!);
        } else if (message.type === 'sync') {
          void answerBridge(message.request!, options.cells)
            .then(
              (value) => ({ ok: true, value }),
              (error: Error) => ({ ok: false, message: error.message }),
            )
            .then((answer) => {
              const encoded = Buffer.from(JSON.stringify(answer), 'utf8');
              bytes.set(encoded);
              Atomics.store(flag, 1, encoded.length);
              Atomics.store(flag, 0, 1);
              Atomics.notify(flag, 0);
            });
        }
      },
    );
  });
  await ready;

  const callWorker = (type: string, name: string, args: unknown[]) =>
    new Promise<{ ok: boolean; value?: unknown; message?: string }>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      worker.postMessage({ type, id, name, args });
    });

  const pageOf = (file: string) =>
    readFileSync(path.join(options.bundleDir, `${file}.html`), 'utf8').replace('<head>', `<head>\n${SHIM}`);
  const page = pageOf('sidebar');
  const picker = pageOf('picker');
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/sheet') {
      void callWorker('sheet-view', '', []).then((answer) =>
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end(renderSheetView(answer.value as SheetView)),
      );
      return;
    }
    if (req.method === 'GET' && (req.url === '/' || req.url === '/sidebar' || req.url === '/picker')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(req.url === '/picker' ? picker : page);
      return;
    }
    const match = /^\/rpc\/([A-Za-z]+)$/.exec(req.url ?? '');
    if (req.method === 'POST' && match) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const args = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]') as unknown[];
        void callWorker('rpc', match[1]!, args).then((answer) =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
        );
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    selectedRow: async () => (await callWorker('selection', '', [])).value as number | null,
    activeSheet: async () => (await callWorker('active-sheet', '', [])).value as ActiveSheetInfo,
    selectRows: async (...spans) => void (await callWorker('select-rows', '', spans)),
    dialogs: async () => (await callWorker('dialogs', '', [])).value as ShownDialog[],
    sentMail: async () => (await callWorker('mail', '', [])).value as GasMailMessage[],
    sheetView: async () => (await callWorker('sheet-view', '', [])).value as SheetView,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker.terminate();
    },
  };
}
