/**
 * "Email me this report": fetches a run's report from the service and mails a short plain-text and HTML summary,
 * with the rows that need a fix and a link to the spreadsheet, to the user who asked (and to nobody else).
 */
import type { RunReport, RunReportRow } from '../shared/contract';
import {
  approvalLines,
  moreFailedLine,
  reportSentence,
  reportSubject,
  rowLabel,
  rowLine,
} from '../shared/report-format';
import type { EmailReportResult } from '../shared/server-rpc';
import { AddonError, gas } from './apps-script-env';
import { callService } from './service-client';

/** Most rows listed in one email; the rest are counted, so a huge run still sends a readable message. */
export const EMAIL_ROW_LIMIT = 50;

/** The message the user sees when Google does not tell the add-on their address. */
export const NO_EMAIL_MESSAGE =
  'Google did not share your email address with the add-on, so the report could not be sent. ' +
  'Sign in to Sheets with your work account (or allow the add-on to see your email address) and try again; the report stays in the sidebar and the "Postato runs" tab.';

/** The link to the spreadsheet, pointing at the first failed row when there is one. */
export function spreadsheetLink(report: Pick<RunReport, 'spreadsheetId' | 'firstFailedLink'>): string {
  return `https://docs.google.com/spreadsheets/d/${encodeURIComponent(report.spreadsheetId)}/edit${report.firstFailedLink ?? ''}`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function when(iso: string | undefined): string {
  // Apps Script runs in the script's zone, not the user's, so the email says UTC explicitly.
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : 'not yet';
}

/** Subject, plain-text body and HTML body of the report email. */
export function reportEmail(report: RunReport): { subject: string; body: string; htmlBody: string } {
  const link = spreadsheetLink(report);
  const listed = report.failed.slice(0, EMAIL_ROW_LIMIT);
  const more = moreFailedLine({ failed: listed, failedTotal: Math.max(report.failedTotal, report.failed.length) });
  const sentence = reportSentence(report);
  const times = `Started ${when(report.startedAt)}, ended ${when(report.finishedAt)}. Run ${report.runId}.`;

  const text: string[] = [sentence, times, ''];
  if (listed.length > 0) {
    text.push('Rows that need a fix:', ...listed.map((r) => `- ${rowLine(r)}`));
    if (more) text.push(more);
    text.push('');
  }
  if (report.removed.length > 0)
    text.push('Rows removed from the sheet during the run:', ...report.removed.map((r) => `- ${r.message}`), '');
  const approvals = approvalLines(report);
  if (approvals.length > 0) text.push('Sent with approval:', ...approvals.map((a) => `- ${a}`), '');
  if (report.warnings.length > 0) text.push('Warnings:', ...report.warnings.map((w) => `- ${w}`), '');
  text.push(`${listed.length > 0 ? 'Open the first failed row' : 'Open the spreadsheet'}: ${link}`);

  const item = (r: RunReportRow) => `<li><b>${escapeHtml(rowLabel(r))}</b>: ${escapeHtml(r.message)}</li>`;
  const html: string[] = [`<p>${escapeHtml(sentence)}</p>`, `<p style="color:#777">${escapeHtml(times)}</p>`];
  if (listed.length > 0) {
    html.push('<h3>Rows that need a fix</h3>', `<ul>${listed.map(item).join('')}</ul>`);
    if (more) html.push(`<p>${escapeHtml(more)}</p>`);
  }
  if (report.removed.length > 0) {
    html.push(
      '<h3>Rows removed from the sheet during the run</h3>',
      `<ul>${report.removed.map((r) => `<li>${escapeHtml(r.message)}</li>`).join('')}</ul>`,
    );
  }
  if (approvals.length > 0)
    html.push('<h3>Sent with approval</h3>', `<ul>${approvals.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ul>`);
  if (report.warnings.length > 0)
    html.push('<h3>Warnings</h3>', `<ul>${report.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`);
  html.push(
    `<p><a href="${escapeHtml(link)}">${listed.length > 0 ? 'Open the first failed row' : 'Open the spreadsheet'}</a></p>`,
  );

  return { subject: reportSubject(report), body: text.join('\n'), htmlBody: html.join('\n') };
}

/** Fetches the report of `runId` and emails it to the signed-in user; says why when it could not be sent. */
export function emailReport(runId: string): EmailReportResult {
  if (typeof runId !== 'string' || runId.trim() === '') {
    throw new AddonError(
      'There is no run to report on yet. Publish, then press Email me this report when the run has ended.',
    );
  }
  const to = (gas().Session.getActiveUser().getEmail() ?? '').trim();
  if (to === '') return { sent: false, to: null, message: NO_EMAIL_MESSAGE };
  const report = callService<RunReport>({ method: 'get', path: `/v1/runs/${encodeURIComponent(runId)}/report` });
  const mail = reportEmail(report);
  try {
    gas().MailApp.sendEmail({ to, name: 'Postato Sheets', ...mail });
  } catch {
    // MailApp's own message names quotas in Google's words; the user needs to know what to do next.
    throw new AddonError(
      'Google did not send the email (your daily email quota may be used up). Try again later; the report stays in the sidebar and the "Postato runs" tab.',
    );
  }
  return { sent: true, to, message: `Sent the report to ${to}.` };
}
