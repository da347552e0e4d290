/**
 * The one-time move of settings saved before they belonged to each spreadsheet. Earlier versions kept the workspace,
 * time zone, gap and jitter in the user's UserProperties, for every spreadsheet; now each spreadsheet has its own.
 * A spreadsheet without settings offers the user's earlier ones; they apply only when the user adopts them there,
 * and are then forgotten, so they never reach another spreadsheet (perhaps another client's) unasked.
 * The API key is not part of this: it stays per user.
 */
import type { EarlierSettingsChoice, SettingsView } from '../shared/server-rpc';
import { AddonError, gas } from './apps-script-env';
import { SPREADSHEET_SETTING_KEYS, earlierSettings, readSettings, saveSettings, settingsView } from './settings';

/** How long adoption waits for another execution (a colleague saving settings) to finish with the document. */
const LOCK_WAIT_MS = 10_000;

function forgetEarlierSettings(): void {
  const user = gas().PropertiesService.getUserProperties();
  for (const key of SPREADSHEET_SETTING_KEYS) user.deleteProperty(key);
}

/** Adopts the earlier settings for this spreadsheet, unless it got settings of its own meanwhile. */
function useEarlierSettingsHere(): void {
  const earlier = earlierSettings();
  if (!earlier) throw new AddonError('There are no earlier settings to use. Enter this spreadsheet’s settings below.');
  const lock = gas().LockService.getDocumentLock();
  if (!lock || !lock.tryLock(LOCK_WAIT_MS)) {
    throw new AddonError(
      'Another Postato action on this spreadsheet is still running. Wait a few seconds and try again.',
    );
  }
  try {
    // Read again under the lock: an editor may have saved this spreadsheet's settings since the sidebar showed the offer.
    const current = readSettings();
    if (current.workspaceId !== '') {
      throw new AddonError(
        `This spreadsheet has its own settings now (workspace ${current.workspaceId}), so nothing was changed. Check them below.`,
      );
    }
    saveSettings({ ...earlier, apiKey: '' });
  } finally {
    lock.releaseLock();
  }
  forgetEarlierSettings();
}

/** Carries out the user's choice and returns the settings as the sidebar shows them next. */
export function chooseEarlierSettings(choice: EarlierSettingsChoice): SettingsView {
  if (choice === 'use-here') useEarlierSettingsHere();
  else forgetEarlierSettings();
  return settingsView();
}
