/**
 * Inserts a template sheet: the contract's headers, a few example rows, a frozen bold header, dropdowns for
 * Platform, Post type and (when Postato's account list is available through the service) Account, and an Approved
 * checkbox column (Publish creates only ticked rows; delete the column to publish without sign-off).
 */
import { ALL_POST_TYPES, INPUT_COLUMNS, OPTIONAL_COLUMNS, OUTPUT_COLUMNS, PLATFORMS } from '../shared/sheet-columns';
import type { AccountsResponse } from '../shared/contract';
import type { RawCell } from './apps-script-types';
import { gas } from './apps-script-env';
import { callService } from './service-client';
import { readSettings } from './settings';

/** Name of the template sheet; a number is appended when it already exists. */
export const TEMPLATE_SHEET_NAME = 'Postato posts';

/** The template's header row. */
export const TEMPLATE_HEADER: readonly string[] = [...INPUT_COLUMNS, ...OPTIONAL_COLUMNS, ...OUTPUT_COLUMNS];

const EXAMPLES: ReadonlyArray<Partial<Record<(typeof INPUT_COLUMNS)[number], string>>> = [
  {
    Platform: 'twitter',
    Account: 'acc_twitter_main',
    'Post type': 'tweet',
    Content: 'Our spring collection is live! 🌱',
  },
  {
    Platform: 'twitter',
    Account: 'acc_twitter_main',
    'Post type': 'thread',
    Content:
      'How we plan a launch, in 3 steps 🧵\n---\n1. Write every post in one sheet.\n---\n2. Dry run, fix, publish.',
  },
  {
    Platform: 'linkedin',
    Account: 'acc_linkedin_page',
    'Post type': 'post',
    Content: 'We are hiring a community manager. Join us!',
    'Time zone': 'Europe/Lisbon',
  },
  {
    Platform: 'instagram',
    Account: 'acc_instagram',
    'Post type': 'feed',
    Content: 'Behind the scenes at the studio.',
    Media: 'https://example.com/images/studio.jpg',
  },
  {
    Platform: 'youtube',
    Account: 'acc_youtube',
    'Post type': 'video',
    Content: 'A 5-minute tour of the new collection.',
    Media: 'https://example.com/videos/tour.mp4',
    Title: 'Spring collection tour',
  },
];

/** Account ids of the workspace when the service can list them, else null (the dropdown is then left out). */
export function accountChoices(): string[] | null {
  const settings = readSettings();
  if (settings.workspaceId === '' || settings.apiKey === null) return null;
  try {
    // GET /v1/accounts (src/http/accounts-routes.ts); parsed defensively, since an older service may answer differently.
    const answer = callService<Partial<AccountsResponse>>({
      method: 'get',
      path: `/v1/accounts?workspaceId=${encodeURIComponent(settings.workspaceId)}`,
      apiKey: settings.apiKey,
    });
    if (answer.available === false) return null;
    const ids = (answer.items ?? [])
      .map((a): unknown => a.id)
      .filter((id): id is string => typeof id === 'string' && id !== '');
    return ids.length > 0 ? ids : null;
  } catch {
    // The account list is optional: without it the template simply has no Account dropdown.
    return null;
  }
}

function freeSheetName(): string {
  const ss = gas().SpreadsheetApp.getActiveSpreadsheet();
  let name = TEMPLATE_SHEET_NAME;
  for (let n = 2; ss.getSheetByName(name) !== null; n++) name = `${TEMPLATE_SHEET_NAME} ${n}`;
  return name;
}

/** Inserts and activates a template sheet; returns its name. */
export function insertTemplate(accounts: string[] | null = accountChoices()): string {
  const app = gas().SpreadsheetApp;
  const sheet = app.getActiveSpreadsheet().insertSheet(freeSheetName());
  const width = TEMPLATE_HEADER.length;
  const examples: RawCell[][] = EXAMPLES.map((ex) =>
    TEMPLATE_HEADER.map((col) => (ex as Record<string, string>)[col] ?? ''),
  );
  sheet
    .getRange(1, 1, 1, width)
    .setValues([[...TEMPLATE_HEADER]])
    .setFontWeight('bold')
    .setBackground('#f1f3f4');
  sheet.getRange(2, 1, examples.length, width).setValues(examples);
  sheet.setFrozenRows(1);

  const dataRows = Math.max(sheet.getMaxRows() - 1, examples.length);
  const dropdown = (values: readonly string[]) =>
    app
      .newDataValidation()
      .requireValueInList([...values], true)
      .setAllowInvalid(false)
      .build();
  const col = (name: string) => TEMPLATE_HEADER.indexOf(name) + 1;
  sheet.getRange(2, col('Platform'), dataRows, 1).setDataValidation(dropdown(PLATFORMS));
  sheet.getRange(2, col('Post type'), dataRows, 1).setDataValidation(dropdown(ALL_POST_TYPES));
  if (accounts && accounts.length > 0) {
    // Allow other values too: a new account may be connected in Postato after the template was made.
    const rule = app.newDataValidation().requireValueInList(accounts, true).setAllowInvalid(true).build();
    sheet.getRange(2, col('Account'), dataRows, 1).setDataValidation(rule);
  }
  // Unticked to start with: nothing is approved until someone ticks it.
  sheet.getRange(2, col('Approved'), dataRows, 1).setDataValidation(app.newDataValidation().requireCheckbox().build());
  sheet.setColumnWidth(col('Content'), 320);
  sheet.activate();
  return sheet.getName();
}
