import { rpc } from '../../../appsscript/server/index';
import {
  EMAIL_ROW_LIMIT,
  NO_EMAIL_MESSAGE,
  reportEmail,
  spreadsheetLink,
} from '../../../appsscript/server/report-email';
import { createFakes, installFakes, type AppsScriptFakes } from '../fakes/fake-services';
import { reportAnswer, scriptedService, type ScriptedService } from '../fakes/sample-sheet';

describe('Email me this report', () => {
  let fakes: AppsScriptFakes;
  let service: ScriptedService;
  let uninstall: () => void;
  beforeEach(() => {
    service = scriptedService();
    fakes = createFakes({ handler: service.handler });
    uninstall = installFakes(fakes);
  });
  afterEach(() => uninstall());

  it('fetches the report from the service and mails it to the signed-in user only', () => {
    const result = rpc.rpcEmailReport('run_1');
    expect(result).toEqual({
      sent: true,
      to: 'manager@example.com',
      message: 'Sent the report to manager@example.com.',
    });
    expect(service.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['get /v1/runs/run_1/report']);
    expect(fakes.MailApp.sent).toHaveLength(1);
    const mail = fakes.MailApp.sent[0]!;
    expect(mail.to).toBe('manager@example.com');
    expect(mail.subject).toBe('Postato: Publish of “Posts” – 2 posts created, 2 rows failed, 1 skipped');
  });

  it('names who approved each row the run sent, when the sheet has an Approved column', () => {
    const report = {
      ...reportAnswer('run_1'),
      approved: [{ key: 'k-2', rowNumber: 2, approvedBy: 'lead@example.com', approvedAt: '2030-01-15T09:30:00.000Z' }],
    };
    const { body, htmlBody } = reportEmail(report);
    expect(body).toContain('Sent with approval:\n- Row 2: approved by lead@example.com, 2030-01-15 09:30 UTC');
    expect(htmlBody).toContain('<li>Row 2: approved by lead@example.com, 2030-01-15 09:30 UTC</li>');
  });

  it('the plain text lists counts, duration, failed rows with reasons, removed rows, warnings and the sheet link', () => {
    rpc.rpcEmailReport('run_1');
    const { body } = fakes.MailApp.sent[0]!;
    expect(body.split('\n')[0]).toBe(
      'Publish of “Posts” finished in 12 seconds: 2 posts created, 2 rows failed, 1 skipped.',
    );
    expect(body).toContain('Started 2030-01-01 00:00 UTC, ended 2030-01-01 00:00 UTC. Run run_1.');
    expect(body).toContain('- Row 5: Postato refused the post: Instagram captions are at most 2,200 characters.');
    expect(body).toContain('- Row 7: Content: is empty. Write the post text.');
    expect(body).toContain('Rows removed from the sheet during the run:\n- The row with key r-gone was gone');
    expect(body).toContain('Warnings:\n- Row 3: the same text for acc_tw within a day.');
    expect(body).toContain(
      'Open the first failed row: https://docs.google.com/spreadsheets/d/ss-1/edit#gid=0&range=A5',
    );
  });

  it('the HTML body carries the same rows, escapes what users typed, and links the first failed row', () => {
    const report = reportAnswer('run_9');
    report.failed[1]!.message = 'Content: <script>alert(1)</script> & more';
    const { htmlBody } = reportEmail(report);
    expect(htmlBody).toContain('<li><b>Row 5</b>: Postato refused the post');
    expect(htmlBody).toContain('Content: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(htmlBody).not.toContain('<script>');
    expect(htmlBody).toContain(
      '<a href="https://docs.google.com/spreadsheets/d/ss-1/edit#gid=0&amp;range=A5">Open the first failed row</a>',
    );
  });

  it('a run without failures links the spreadsheet itself and lists no rows', () => {
    const report = {
      ...reportAnswer('run_2'),
      failed: [],
      failedTotal: 0,
      removed: [],
      warnings: [],
      firstFailedLink: undefined,
    };
    report.counts = { total: 3, pending: 0, sent: 3, created: 3, failed: 0, skipped: 0 };
    const { subject, body } = reportEmail(report);
    expect(subject).toBe('Postato: Publish of “Posts” – 3 posts created');
    expect(body).not.toContain('Rows that need a fix');
    expect(body).not.toContain('Warnings');
    expect(body).toContain('Open the spreadsheet: https://docs.google.com/spreadsheets/d/ss-1/edit');
    expect(spreadsheetLink({ spreadsheetId: 'a b' })).toBe('https://docs.google.com/spreadsheets/d/a%20b/edit');
  });

  it('lists at most EMAIL_ROW_LIMIT rows and counts the rest', () => {
    const report = reportAnswer('run_3');
    report.failed = Array.from({ length: EMAIL_ROW_LIMIT + 10 }, (_, i) => ({
      key: `r-${i}`,
      rowNumber: i + 2,
      message: 'Refused.',
    }));
    report.failedTotal = 700;
    const { body } = reportEmail(report);
    expect(body.split('\n').filter((l) => l.endsWith(': Refused.'))).toHaveLength(EMAIL_ROW_LIMIT);
    expect(body).toContain(`…and ${700 - EMAIL_ROW_LIMIT} more rows; the Status and Error columns show every one.`);
  });

  it('when Google gives no email address, says so and sends nothing', () => {
    fakes.Session.email = '';
    const result = rpc.rpcEmailReport('run_1');
    expect(result).toEqual({ sent: false, to: null, message: NO_EMAIL_MESSAGE });
    expect(result.message).toMatch(/did not share your email address/);
    expect(fakes.MailApp.sent).toHaveLength(0);
    expect(service.requests).toHaveLength(0);
  });

  it('a service error reaches the user as the service’s sentence, and nothing is mailed', () => {
    fakes.UrlFetchApp.handler = () => ({
      status: 404,
      body: { error: 'not_found', message: 'No run run_x is visible to you.' },
    });
    expect(() => rpc.rpcEmailReport('run_x')).toThrow('No run run_x is visible to you.');
    fakes.UrlFetchApp.handler = () => ({ status: 503, text: 'upstream down' });
    expect(() => rpc.rpcEmailReport('run_x')).toThrow(/had a problem \(HTTP 503\)\. Try again in a minute/);
    expect(fakes.MailApp.sent).toHaveLength(0);
  });

  it('a refused send (quota) becomes a sentence, and a missing run id is explained', () => {
    fakes.MailApp.failWith = 'Exception: Service invoked too many times for one day: email.';
    expect(() => rpc.rpcEmailReport('run_1')).toThrow(/Google did not send the email .*Try again later/);
    expect(() => rpc.rpcEmailReport('')).toThrow(/There is no run to report on yet/);
  });
});
