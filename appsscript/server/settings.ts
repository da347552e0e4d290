/**
 * The add-on's settings, each where it belongs: the Postato API key in the user's UserProperties (never in the
 * document, so other editors can't read it; only a hint of it goes back to the sidebar); the workspace, time zone,
 * gap and jitter in the spreadsheet's DocumentProperties, so every editor of a sheet publishes into the same
 * workspace on the same schedule, and one user's sheets of different clients keep their own workspaces.
 */
import type { EarlierSettings, SettingsInput, SettingsView } from '../shared/server-rpc';
import type { GasProperties } from './apps-script-types';
import { AddonError, gas, serviceUrl } from './apps-script-env';

/** Property names; the per-user settings of earlier versions used the same names in UserProperties. */
export const SETTING_KEYS = {
  workspaceId: 'postato.workspaceId',
  apiKey: 'postato.apiKey',
  timeZone: 'postato.timeZone',
  minGapMinutes: 'postato.minGapMinutes',
  jitterSeconds: 'postato.jitterSeconds',
  serviceAccountEmail: 'postato.serviceAccountEmail',
} as const;

/** Script property that switches a self-hosted install to shared-secret authentication. */
export const SHARED_SECRET_PROPERTY = 'SHARED_SECRET';

const API_KEY_PATTERN = /^smcp_[0-9a-f]{64}$/;

/** The settings the server side needs to build a run request (includes the API key). */
export interface StoredSettings {
  workspaceId: string;
  apiKey: string | null;
  timeZone: string;
  minGapMinutes: number | null;
  jitterSeconds: number | null;
}

function numberOrNull(text: string | null): number | null {
  if (text === null || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** Reads the spreadsheet's settings and the current user's API key. */
export function readSettings(): StoredSettings {
  const doc = gas().PropertiesService.getDocumentProperties();
  return {
    workspaceId: doc.getProperty(SETTING_KEYS.workspaceId) ?? '',
    apiKey: gas().PropertiesService.getUserProperties().getProperty(SETTING_KEYS.apiKey),
    timeZone: doc.getProperty(SETTING_KEYS.timeZone) ?? '',
    minGapMinutes: numberOrNull(doc.getProperty(SETTING_KEYS.minGapMinutes)),
    jitterSeconds: numberOrNull(doc.getProperty(SETTING_KEYS.jitterSeconds)),
  };
}

/** Settings kept per spreadsheet, which earlier versions kept in the user's UserProperties. */
export const SPREADSHEET_SETTING_KEYS = [
  SETTING_KEYS.workspaceId,
  SETTING_KEYS.timeZone,
  SETTING_KEYS.minGapMinutes,
  SETTING_KEYS.jitterSeconds,
] as const;

/**
 * The workspace, zone, gap and jitter this user saved when settings were kept per user, or null when there are none
 * (a workspace was always part of them). Only ever offered; see earlier-settings.ts.
 */
export function earlierSettings(): EarlierSettings | null {
  const user = gas().PropertiesService.getUserProperties();
  const workspaceId = user.getProperty(SETTING_KEYS.workspaceId) ?? '';
  if (workspaceId === '') return null;
  return {
    workspaceId,
    timeZone: user.getProperty(SETTING_KEYS.timeZone) ?? '',
    minGapMinutes: numberOrNull(user.getProperty(SETTING_KEYS.minGapMinutes)),
    jitterSeconds: numberOrNull(user.getProperty(SETTING_KEYS.jitterSeconds)),
  };
}

/** The settings as the sidebar may see them. */
export function settingsView(): SettingsView {
  const s = readSettings();
  const props = gas().PropertiesService.getUserProperties();
  return {
    workspaceId: s.workspaceId,
    apiKeySet: s.apiKey !== null,
    apiKeyHint: s.apiKey ? `…${s.apiKey.slice(-4)}` : '',
    timeZone: s.timeZone,
    spreadsheetTimeZone: gas().SpreadsheetApp.getActiveSpreadsheet().getSpreadsheetTimeZone(),
    minGapMinutes: s.minGapMinutes,
    jitterSeconds: s.jitterSeconds,
    serviceAccountEmail: props.getProperty(SETTING_KEYS.serviceAccountEmail),
    serviceUrl: serviceUrl(),
    usesSharedSecret: sharedSecret() !== null,
    earlier: s.workspaceId === '' ? earlierSettings() : null,
  };
}

/** True when `zone` is an IANA time zone the JavaScript runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function checkWholeNumber(value: number | null | undefined, label: string, max: number): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new AddonError(`${label} must be a whole number between 0 and ${max}.`);
  }
  return value;
}

/** Validates and stores the settings; a blank API key keeps the stored one. */
export function saveSettings(input: SettingsInput): SettingsView {
  const workspaceId = (input.workspaceId ?? '').trim();
  if (workspaceId === '') throw new AddonError('Enter your Postato workspace ID (Postato › Settings › Workspace).');
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(workspaceId)) {
    throw new AddonError('The workspace ID may only contain letters, digits, "-" and "_". Copy it from Postato.');
  }
  const apiKey = (input.apiKey ?? '').trim();
  if (apiKey !== '' && !API_KEY_PATTERN.test(apiKey)) {
    throw new AddonError(
      'That API key does not look right: a Postato key starts with "smcp_" followed by 64 characters 0-9 and a-f.',
    );
  }
  const timeZone = (input.timeZone ?? '').trim();
  if (timeZone !== '' && !isValidTimeZone(timeZone)) {
    throw new AddonError(
      `"${timeZone}" is not a time zone. Use a name like Europe/Berlin or America/Sao_Paulo, or leave it blank for the spreadsheet's zone.`,
    );
  }
  const minGap = checkWholeNumber(input.minGapMinutes, 'The gap between posts (minutes)', 1440);
  const jitter = checkWholeNumber(input.jitterSeconds, 'The jitter (seconds)', 3600);

  if (apiKey !== '') gas().PropertiesService.getUserProperties().setProperty(SETTING_KEYS.apiKey, apiKey);
  const doc = gas().PropertiesService.getDocumentProperties();
  doc.setProperty(SETTING_KEYS.workspaceId, workspaceId);
  setOrDelete(doc, SETTING_KEYS.timeZone, timeZone === '' ? null : timeZone);
  setOrDelete(doc, SETTING_KEYS.minGapMinutes, minGap === null ? null : String(minGap));
  setOrDelete(doc, SETTING_KEYS.jitterSeconds, jitter === null ? null : String(jitter));
  return settingsView();
}

function setOrDelete(props: GasProperties, key: string, value: string | null): void {
  if (value === null) props.deleteProperty(key);
  else props.setProperty(key, value);
}

/** Remembers the service account email the service reported, so Settings can show it without a call. */
export function rememberServiceAccountEmail(email: string): void {
  gas().PropertiesService.getUserProperties().setProperty(SETTING_KEYS.serviceAccountEmail, email);
}

/** Settings a run needs; throws a sentence naming what to fill in when something is missing. */
export function requireRunSettings(): StoredSettings & { apiKey: string } {
  const s = readSettings();
  if (s.workspaceId === '' || s.apiKey === null) {
    throw new AddonError(
      s.workspaceId === '' && s.apiKey === null
        ? 'Open Postato › Settings and enter the workspace ID of this spreadsheet and your API key first.'
        : s.workspaceId === ''
          ? earlierSettings()
            ? 'This spreadsheet has no Postato settings of its own yet. Open Postato › Settings: use your earlier settings here, or enter this spreadsheet’s workspace ID.'
            : 'This spreadsheet has no Postato workspace yet. Open Postato › Settings and enter its workspace ID.'
          : 'Open Postato › Settings and enter your Postato API key first (it is kept for you only, not in the sheet).',
    );
  }
  return { ...s, apiKey: s.apiKey };
}

/** The shared secret of a self-hosted install, or null when the add-on signs in with Google. */
export function sharedSecret(): string | null {
  const value = gas().PropertiesService.getScriptProperties().getProperty(SHARED_SECRET_PROPERTY);
  return value && value.trim() !== '' ? value : null;
}
