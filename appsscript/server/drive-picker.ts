/**
 * Opens Google's Picker in a dialog over the sheet for "Add media from Drive", and hands the dialog what the Picker is
 * built with: the user's OAuth token, and the deployer's Picker API key and Cloud project number, kept in script
 * properties (Project settings › Script properties) so one install serves every user without a rebuild.
 */
import type { DrivePickerSetup, MediaTarget } from '../shared/server-rpc';
import { AddonError, gas } from './apps-script-env';
import { mediaTarget } from './drive-media';

/** Script property holding the browser API key of the Cloud project, with the Google Picker API enabled. */
export const PICKER_API_KEY_PROPERTY = 'GOOGLE_PICKER_API_KEY';
/** Script property holding the Cloud project number: the Picker grants drive.file access to this app. */
export const CLOUD_PROJECT_NUMBER_PROPERTY = 'GOOGLE_CLOUD_PROJECT_NUMBER';
/** The dialog's size: Google's recommended Picker size fits in it. */
const DIALOG_WIDTH = 1051;
const DIALOG_HEIGHT = 650;

/** The deployer's Picker settings, or a sentence naming the ones missing. */
export function pickerSettings(): { developerKey: string; appId: string } {
  const props = gas().PropertiesService.getScriptProperties();
  const developerKey = (props.getProperty(PICKER_API_KEY_PROPERTY) ?? '').trim();
  const appId = (props.getProperty(CLOUD_PROJECT_NUMBER_PROPERTY) ?? '').trim();
  const missing = [
    ...(developerKey === '' ? [PICKER_API_KEY_PROPERTY] : []),
    ...(appId === '' ? [CLOUD_PROJECT_NUMBER_PROPERTY] : []),
  ];
  if (missing.length > 0) {
    throw new AddonError(
      `Add media from Drive is not set up for this add-on yet: whoever deployed it must set the script ${missing.length === 1 ? 'property' : 'properties'} ${missing.join(' and ')} (see the README, “Media from Google Drive”). Until then, ask them, or upload the files to Postato and use their med_… ids.`,
    );
  }
  if (!/^\d{6,20}$/.test(appId)) {
    throw new AddonError(
      `The script property ${CLOUD_PROJECT_NUMBER_PROPERTY} must be the Cloud project's number (digits only, on the project's dashboard), not its name or ID. Ask whoever deployed the add-on to correct it.`,
    );
  }
  return { developerKey, appId };
}

/** Checks the selection and the settings, then opens the Picker dialog; returns the rows the files will go into. */
export function openDrivePicker(): MediaTarget {
  pickerSettings();
  const target = mediaTarget();
  const html = gas().HtmlService.createHtmlOutputFromFile('picker').setWidth(DIALOG_WIDTH).setHeight(DIALOG_HEIGHT);
  gas().SpreadsheetApp.getUi().showModalDialog(html, 'Add media from Drive');
  return target;
}

/** What the dialog builds the Picker with; the selection is read again, as the dialog holds the sheet still. */
export function drivePickerSetup(): DrivePickerSetup {
  const { developerKey, appId } = pickerSettings();
  return { oauthToken: gas().ScriptApp.getOAuthToken(), developerKey, appId, target: mediaTarget() };
}
