/**
 * The "Add media from Drive" dialog: loads Google's Picker, builds it with what the server hands over (the user's
 * token, the deployer's API key and Cloud project number, the selected rows), shows Drive's images, videos and PDFs
 * with multi-select, and sends the picked files to the server, which appends them to those rows' Media cells. Picking a
 * file in the Picker is what grants the add-on's drive.file token access to it.
 */
import { rowList } from '../shared/format';
import type { DrivePickerSetup, PickedDriveFile } from '../shared/server-rpc';
import { callServer } from './call-server';

interface PickerDocs {
  [field: string]: unknown;
}
interface PickerView {
  setIncludeFolders(on: boolean): PickerView;
  setSelectFolderEnabled(on: boolean): PickerView;
  setEnableDrives(on: boolean): PickerView;
  setMimeTypes(mimeTypes: string): PickerView;
}
interface PickerBuilder {
  addView(view: PickerView): PickerBuilder;
  enableFeature(feature: string): PickerBuilder;
  setOAuthToken(token: string): PickerBuilder;
  setDeveloperKey(key: string): PickerBuilder;
  setAppId(appId: string): PickerBuilder;
  setOrigin(origin: string): PickerBuilder;
  setTitle(title: string): PickerBuilder;
  setSize(width: number, height: number): PickerBuilder;
  setCallback(callback: (data: PickerDocs) => void): PickerBuilder;
  build(): { setVisible(visible: boolean): void };
}
/** The part of google.picker this page uses (https://developers.google.com/workspace/drive/picker/reference). */
interface PickerApi {
  PickerBuilder: new () => PickerBuilder;
  DocsView: new (viewId?: string) => PickerView;
  ViewId: { DOCS: string; DOCS_IMAGES_AND_VIDEOS: string };
  Feature: { MULTISELECT_ENABLED: string; SUPPORT_DRIVES: string };
  Action: { PICKED: string; CANCEL: string };
  Response: { ACTION: string; DOCUMENTS: string };
  Document: { ID: string; NAME: string; MIME_TYPE: string };
}

declare const window: Window & {
  gapi?: { load(name: string, options: { callback: () => void; onerror: () => void }): void };
  google: { picker?: PickerApi; script: { host: { origin: string; close(): void } } };
};

/** Google's recommended Picker size; the dialog is opened 1 px larger on each side. */
const PICKER_WIDTH = 1049;
const PICKER_HEIGHT = 648;

/** PDFs: what a LinkedIn document post carries (the service checks them against that platform's rules). */
const PDF_MIME_TYPE = 'application/pdf';

const $ = (id: string): HTMLElement => document.getElementById(id)!;

function show(kind: 'busy' | 'info' | 'error', text: string): void {
  const box = $('picker-status');
  box.className = `notice ${kind}`;
  box.textContent = text;
  $('picker-done').hidden = kind === 'busy';
}

/** Loads gapi's `picker` module; api.js itself is loaded by the page's script tag. */
function loadPickerApi(): Promise<PickerApi> {
  return new Promise((resolve, reject) => {
    const failed = () =>
      reject(new Error('Google’s Picker could not be loaded. Check your connection, close this dialog and try again.'));
    if (!window.gapi) return failed();
    window.gapi.load('picker', {
      callback: () => (window.google.picker ? resolve(window.google.picker) : failed()),
      onerror: failed,
    });
  });
}

/** The picked files as the server takes them. */
export function pickedFiles(api: PickerApi, data: PickerDocs): PickedDriveFile[] {
  const docs = (data[api.Response.DOCUMENTS] as PickerDocs[] | undefined) ?? [];
  return docs.map((doc) => ({
    id: String(doc[api.Document.ID] ?? ''),
    name: String(doc[api.Document.NAME] ?? ''),
    mimeType: String(doc[api.Document.MIME_TYPE] ?? ''),
  }));
}

async function onPicked(setup: DrivePickerSetup, files: PickedDriveFile[]): Promise<void> {
  show(
    'busy',
    `Adding ${files.length === 1 ? '1 file' : `${files.length} files`} to ${rowList(setup.target.rows.map((r) => r.rowNumber))}…`,
  );
  try {
    const added = await callServer('rpcAddDriveMedia', setup.target, files);
    show('info', added.message);
  } catch (error) {
    show('error', (error as Error).message);
  }
}

function buildPicker(api: PickerApi, setup: DrivePickerSetup): void {
  const mine = new api.DocsView(api.ViewId.DOCS_IMAGES_AND_VIDEOS)
    .setIncludeFolders(true)
    .setSelectFolderEnabled(false);
  const shared = new api.DocsView(api.ViewId.DOCS_IMAGES_AND_VIDEOS).setEnableDrives(true).setIncludeFolders(true);
  // Images and videos have a view of their own; PDFs need a Drive view narrowed to their type.
  const pdfs = new api.DocsView(api.ViewId.DOCS)
    .setMimeTypes(PDF_MIME_TYPE)
    .setIncludeFolders(true)
    .setSelectFolderEnabled(false);
  const sharedPdfs = new api.DocsView(api.ViewId.DOCS)
    .setMimeTypes(PDF_MIME_TYPE)
    .setEnableDrives(true)
    .setIncludeFolders(true);
  new api.PickerBuilder()
    .addView(mine)
    .addView(shared)
    .addView(pdfs)
    .addView(sharedPdfs)
    .enableFeature(api.Feature.MULTISELECT_ENABLED)
    .enableFeature(api.Feature.SUPPORT_DRIVES)
    .setOAuthToken(setup.oauthToken)
    .setDeveloperKey(setup.developerKey)
    // The Cloud project number: the drive.file grant of each picked file goes to this app.
    .setAppId(setup.appId)
    // The dialog is an iframe inside the Sheets page: the Picker must know the top page's origin.
    .setOrigin(window.google.script.host.origin)
    .setTitle(`Files for ${rowList(setup.target.rows.map((r) => r.rowNumber))} of “${setup.target.sheetName}”`)
    .setSize(PICKER_WIDTH, PICKER_HEIGHT)
    .setCallback((data) => {
      const action = data[api.Response.ACTION];
      if (action === api.Action.PICKED) void onPicked(setup, pickedFiles(api, data));
      else if (action === api.Action.CANCEL) window.google.script.host.close();
    })
    .build()
    .setVisible(true);
}

async function init(): Promise<void> {
  $('picker-done').onclick = () => window.google.script.host.close();
  show('busy', 'Opening Google Drive…');
  try {
    const [api, setup] = await Promise.all([loadPickerApi(), callServer('rpcDrivePickerSetup')]);
    buildPicker(api, setup);
    show('busy', 'Pick the pictures, videos or PDFs in the Google Drive window.');
  } catch (error) {
    show('error', (error as Error).message);
  }
  document.body.setAttribute('data-ready', 'true');
}

void init();
