/**
 * The user's settings, kept in UserProperties (per user, never in the document, so collaborators can't read the
 * Postato API key). Only a hint of the key ever goes back to the sidebar.
 */
import type { SettingsInput, SettingsView } from '../shared/server-rpc';
import { AddonError, gas, serviceUrl } from './apps-script-env';

const KEYS = {
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

/** Reads the stored settings of the current user. */
export function readSettings(): StoredSettings {
  const props = gas().PropertiesService.getUserProperties();
  return {
    workspaceId: props.getProperty(KEYS.workspaceId) ?? '',
    apiKey: props.getProperty(KEYS.apiKey),
    timeZone: props.getProperty(KEYS.timeZone) ?? '',
    minGapMinutes: numberOrNull(props.getProperty(KEYS.minGapMinutes)),
    jitterSeconds: numberOrNull(props.getProperty(KEYS.jitterSeconds)),
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
    serviceAccountEmail: props.getProperty(KEYS.serviceAccountEmail),
    serviceUrl: serviceUrl(),
    usesSharedSecret: sharedSecret() !== null,
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

  const props = gas().PropertiesService.getUserProperties();
  props.setProperty(KEYS.workspaceId, workspaceId);
  if (apiKey !== '') props.setProperty(KEYS.apiKey, apiKey);
  setOrDelete(KEYS.timeZone, timeZone === '' ? null : timeZone);
  setOrDelete(KEYS.minGapMinutes, minGap === null ? null : String(minGap));
  setOrDelete(KEYS.jitterSeconds, jitter === null ? null : String(jitter));
  return settingsView();
}

function setOrDelete(key: string, value: string | null): void {
  const props = gas().PropertiesService.getUserProperties();
  if (value === null) props.deleteProperty(key);
  else props.setProperty(key, value);
}

/** Remembers the service account email the service reported, so Settings can show it without a call. */
export function rememberServiceAccountEmail(email: string): void {
  gas().PropertiesService.getUserProperties().setProperty(KEYS.serviceAccountEmail, email);
}

/** Settings a run needs; throws a sentence naming what to fill in when something is missing. */
export function requireRunSettings(): StoredSettings & { apiKey: string } {
  const s = readSettings();
  if (s.workspaceId === '' || s.apiKey === null) {
    throw new AddonError('Open Postato › Settings and enter your workspace ID and API key first.');
  }
  return { ...s, apiKey: s.apiKey };
}

/** The shared secret of a self-hosted install, or null when the add-on signs in with Google. */
export function sharedSecret(): string | null {
  const value = gas().PropertiesService.getScriptProperties().getProperty(SHARED_SECRET_PROPERTY);
  return value && value.trim() !== '' ? value : null;
}
