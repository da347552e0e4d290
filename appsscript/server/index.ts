/**
 * Every function Apps Script calls: triggers, menu targets and the sidebar's RPCs. Each one only delegates to a
 * module. The build turns each key of ENTRY_POINTS into a real top-level function of the bundle.
 */
import type { ServerRpc } from '../shared/server-rpc';
import { gas } from './apps-script-env';
import { testConnection } from './connection-test';
import { buildMenu } from './menu';
import { activeRun, cancelRun, dryRun, lastRunReport, prepareAction, runStatus, startRun } from './run-actions';
import { emailReport } from './report-email';
import { addDriveMedia } from './drive-media';
import { drivePickerSetup, openDrivePicker } from './drive-picker';
import { chooseEarlierSettings } from './earlier-settings';
import { checkAccess } from './sheet-access';
import { saveSettings, settingsView } from './settings';
import { selectRow, showSidebar, takePendingAction } from './sidebar';
import { insertTemplate } from './template';
import { showRowsNeedingFix } from './status-look';
import { refreshStatuses } from './status-refresh';

/** The sidebar's RPCs; typed by ServerRpc so the client and the server can't drift apart. */
export const rpc: ServerRpc = {
  rpcGetSettings: () => settingsView(),
  rpcSaveSettings: (input) => saveSettings(input),
  rpcEarlierSettings: (choice) => chooseEarlierSettings(choice),
  rpcCheckAccess: () => checkAccess(),
  rpcTestConnection: () => testConnection(),
  rpcDryRun: (scope) => dryRun(scope ?? {}),
  rpcPrepareAction: (action, scope) => prepareAction(action, scope ?? {}),
  rpcStartRun: (confirmed) => startRun(confirmed),
  rpcRunStatus: (runId, since) => runStatus(runId, since ?? null),
  rpcCancel: (runId) => cancelRun(runId),
  rpcActiveRun: () => activeRun(),
  rpcLastRunReport: () => lastRunReport(),
  rpcSelectRow: (sheetName, rowNumber) => selectRow(sheetName, rowNumber),
  rpcInsertTemplate: () => insertTemplate(),
  rpcTakePendingAction: () => takePendingAction(),
  rpcEmailReport: (runId) => emailReport(runId),
  rpcRefreshStatuses: () => refreshStatuses(),
  rpcShowRowsNeedingFix: (on) => showRowsNeedingFix(on),
  rpcOpenDrivePicker: () => openDrivePicker(),
  rpcDrivePickerSetup: () => drivePickerSetup(),
  rpcAddDriveMedia: (target, files) => addDriveMedia(target, files),
};

/** Triggers and menu targets. */
export const triggers = {
  onOpen: (_e?: unknown): void => buildMenu(),
  onInstall: (_e?: unknown): void => buildMenu(),
  showSidebar: (): void => showSidebar(),
  menuDryRun: (): void => showSidebar('dry-run'),
  menuPublish: (): void => showSidebar('publish'),
  menuRetryFailed: (): void => showSidebar('retry-failed'),
  menuReschedule: (): void => showSidebar('reschedule'),
  menuUnschedule: (): void => showSidebar('unschedule'),
  menuSettings: (): void => showSidebar('settings'),
  menuInsertTemplate: (): void => {
    const name = insertTemplate();
    gas()
      .SpreadsheetApp.getUi()
      .alert(`Inserted the template sheet "${name}". Replace the example rows with your posts, then run a dry run.`);
  },
};

/** Every top-level function the bundle must declare, by name. */
export const ENTRY_POINTS: Readonly<Record<string, (...args: never[]) => unknown>> = { ...triggers, ...rpc };
