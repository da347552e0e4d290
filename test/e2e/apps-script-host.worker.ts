/**
 * Runs inside a worker thread: loads the built add-on bundle in node:vm with the Apps Script fakes and runs the
 * RPCs the browser sends. Apps Script calls are synchronous, so UrlFetchApp and the sheet's cells go through a
 * blocking bridge (Atomics.wait) to the main thread, which does the real HTTP and holds the sheet.
 */
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import type { RawCell } from '../../appsscript/server/apps-script-types';
import { createFakes } from '../appsscript/fakes/fake-services';
import type { CellStore, MetadataStore } from '../appsscript/fakes/fake-spreadsheet-app';

interface HostData {
  bundlePath: string;
  shared: SharedArrayBuffer;
  userProperties: Record<string, string>;
  documentProperties: Record<string, string>;
  scriptProperties: Record<string, string>;
  spreadsheetId: string;
  timeZone: string;
  sheetName: string;
}

const data = workerData as HostData;
const port = parentPort!;
const flag = new Int32Array(data.shared, 0, 2);
const bytes = new Uint8Array(data.shared, 8);

/** Asks the main thread to do `request` and blocks until it has written the JSON answer into shared memory. */
function syncCall<T>(request: object): T {
  Atomics.store(flag, 0, 0);
  port.postMessage({ type: 'sync', request });
  Atomics.wait(flag, 0, 0);
  const text = Buffer.from(bytes.slice(0, flag[1]!)).toString('utf8');
  const answer = JSON.parse(text) as { ok: boolean; value?: T; message?: string };
  if (!answer.ok) throw new Error(answer.message ?? 'bridge call failed');
  return answer.value as T;
}

const store: CellStore = {
  read: () => syncCall<RawCell[][]>({ op: 'read' }),
  write: (row, column, values) => syncCall({ op: 'write', row, column, values }),
};

const metadata: MetadataStore = {
  add: (key, value, visibility) => syncCall({ op: 'metadata-add', key, value, visibility }),
  list: () => syncCall<Array<{ id: number; key: string; value: string }>>({ op: 'metadata-list' }),
  remove: (id) => syncCall({ op: 'metadata-remove', id }),
};

const fakes = createFakes({
  store,
  metadata,
  sheetName: data.sheetName,
  timeZone: data.timeZone,
  handler: (url, params) => syncCall<{ status: number; text: string }>({ op: 'fetch', url, params }),
});
(fakes.spreadsheet as { id: string }).id = data.spreadsheetId;
for (const [k, v] of Object.entries(data.userProperties)) fakes.PropertiesService.user.setProperty(k, v);
for (const [k, v] of Object.entries(data.scriptProperties)) fakes.PropertiesService.script.setProperty(k, v);
for (const [k, v] of Object.entries(data.documentProperties)) fakes.PropertiesService.document.setProperty(k, v);

const context = vm.createContext({ ...fakes, console });
vm.runInContext(readFileSync(data.bundlePath, 'utf8'), context, { filename: 'Code.js' });

port.on('message', (message: { type: string; id: number; name: string; args: unknown[] }) => {
  if (message.type === 'active-sheet') {
    // The sheet the add-on made active (the template test reads its name, header and dropdowns).
    const sheet = fakes.spreadsheet.activeSheet;
    const value = { name: sheet.name, header: sheet.cells()[0] ?? [], validations: sheet.validations };
    port.postMessage({ type: 'rpc-result', id: message.id, ok: true, value: JSON.parse(JSON.stringify(value)) });
    return;
  }
  if (message.type === 'mail') {
    // What the add-on handed to MailApp.sendEmail (the report email test reads it).
    port.postMessage({
      type: 'rpc-result',
      id: message.id,
      ok: true,
      value: JSON.parse(JSON.stringify(fakes.MailApp.sent)),
    });
    return;
  }
  if (message.type === 'sheet-view') {
    // The tab as a user would see it: cells, conditional format rules, frozen rows, rows the filter hides.
    const sheet = fakes.spreadsheet.sheets.find((s) => s.name === data.sheetName)!;
    const value = {
      name: sheet.name,
      cells: sheet.cells(),
      frozenRows: sheet.frozenRows,
      rules: sheet.conditionalFormatRules.map((r) => ({
        ranges: r.ranges.map((g) => ({
          row: g.getRow(),
          column: g.getColumn(),
          numRows: g.getNumRows(),
          numColumns: g.getNumColumns(),
        })),
        type: r.criteria?.type ?? null,
        value: r.criteria ? String(r.criteria.values[0]) : null,
        background: r.background,
        fontColor: r.fontColor,
      })),
      hiddenRows: sheet.filter?.hiddenRows() ?? [],
    };
    port.postMessage({ type: 'rpc-result', id: message.id, ok: true, value: JSON.parse(JSON.stringify(value)) });
    return;
  }
  if (message.type === 'select-rows') {
    // The user selects rows of the posts tab by clicking their row numbers.
    fakes.spreadsheet.activeSheet = fakes.spreadsheet.sheets.find((s) => s.name === data.sheetName)!;
    fakes.spreadsheet.selectRows(...(message.args as Array<[number, number]>));
    port.postMessage({ type: 'rpc-result', id: message.id, ok: true, value: null });
    return;
  }
  if (message.type === 'dialogs') {
    port.postMessage({ type: 'rpc-result', id: message.id, ok: true, value: [...fakes.SpreadsheetApp.ui.dialogs] });
    return;
  }
  if (message.type === 'selection') {
    const range = fakes.spreadsheet.selection[0];
    port.postMessage({ type: 'rpc-result', id: message.id, ok: true, value: range ? range.getRow() : null });
    return;
  }
  try {
    Object.assign(context, { __args: message.args });
    const value: unknown = vm.runInContext(`${message.name}.apply(null, __args)`, context);
    port.postMessage({
      type: 'rpc-result',
      id: message.id,
      ok: true,
      value: value === undefined ? null : JSON.parse(JSON.stringify(value)),
    });
  } catch (error) {
    port.postMessage({ type: 'rpc-result', id: message.id, ok: false, message: (error as Error).message });
  }
});
port.postMessage({ type: 'ready' });
