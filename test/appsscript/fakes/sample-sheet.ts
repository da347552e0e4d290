/** A small campaign sheet and a scripted service for the add-on's unit tests. */
import type {
  DryRunResponse,
  RowVerdict,
  RunReport,
  RunRequest,
  RunStatusResponse,
} from '../../../appsscript/shared/contract';
import type { RawCell } from '../../../appsscript/server/apps-script-types';
import type { FakeHttpAnswer, FetchHandler } from './fake-services';

/** Header plus four post rows (one without key, one with a key, one FAILED, one blank row in between). */
export function sampleCells(): RawCell[][] {
  return [
    ['Key', 'Platform', 'Account', 'Post type', 'Content', 'Scheduled at', 'Status'],
    ['', 'twitter', 'acc_tw', 'tweet', 'Hello', new Date(Date.UTC(2030, 0, 15, 9, 30)), ''],
    ['r-existing', 'linkedin', 'acc_li', 'post', 'Hiring', '', 'SCHEDULED'],
    ['', '', '', '', '', '', ''],
    ['r-failed', 'instagram', 'acc_ig', 'feed', 'Studio', '', 'FAILED'],
  ];
}

function verdict(row: RunRequest['rows'][number], keyIndex: number, day: string): RowVerdict {
  return {
    rowNumber: row.rowNumber,
    key: String(row.values[keyIndex]),
    status: 'READY',
    messages: [],
    platform: String(row.values[1]),
    accountId: String(row.values[2]),
    plannedAt: `${day}T10:00:00Z`,
    plannedLocal: `${day}T10:00:00+00:00`,
  };
}

/** A dry-run answer with one READY verdict per row, spread over two days. */
export function dryRunAnswerFor(request: RunRequest): DryRunResponse {
  const keyIndex = request.header.findIndex((h) => String(h).toLowerCase() === 'key');
  const rows = request.rows.map((r, i) => verdict(r, keyIndex, i % 2 === 0 ? '2030-01-15' : '2030-01-16'));
  return {
    mode: 'dry-run',
    rows,
    summary: {
      total: rows.length,
      ready: rows.length,
      warning: 0,
      invalid: 0,
      alreadyPosted: 0,
      toSend: rows.length,
      earliest: '2030-01-15T10:00:00Z',
      latest: '2030-01-16T10:00:00Z',
      counts: [],
      warnings: [],
      collisions: [],
      accountsChecked: true,
      collisionsChecked: true,
      estimatedPublishSeconds: 72,
      pacing: 'Spread under 120 creations per minute.',
    },
  };
}

/** A run status with the given state. */
export function statusAnswer(runId: string, state: RunStatusResponse['state']): RunStatusResponse {
  return {
    runId,
    mode: 'publish',
    state,
    spreadsheetId: 'ss',
    sheetName: 'Posts',
    counts: { total: 3, pending: 0, sent: 3, created: 3, failed: 0, skipped: 0 },
    startedAt: '2030-01-01T00:00:00Z',
    results: [],
    cursor: 'c-1',
  };
}

/** An ended publish's report: two created, one failed, one invalid row skipped, one row removed, one warning. */
export function reportAnswer(runId: string): RunReport {
  return {
    runId,
    mode: 'publish',
    state: 'done',
    spreadsheetId: 'ss-1',
    sheetName: 'Posts',
    sheetId: 0,
    startedAt: '2030-01-01T00:00:00.000Z',
    finishedAt: '2030-01-01T00:00:12.400Z',
    durationSeconds: 12.4,
    // Row 7 is INVALID: never sent, counted as failed (and listed), as the service counts it.
    counts: { total: 5, pending: 0, sent: 3, created: 2, failed: 2, skipped: 1 },
    failed: [
      {
        key: 'r-ig',
        rowNumber: 5,
        message: 'Postato refused the post: Instagram captions are at most 2,200 characters.',
      },
      { key: 'r-empty', rowNumber: 7, message: 'Content: is empty. Write the post text.' },
    ],
    failedTotal: 2,
    removed: [
      {
        key: 'r-gone',
        rowNumber: null,
        message:
          'The row with key r-gone was gone from the sheet when its result (post pst_1) was written; the result is kept in the service.',
      },
    ],
    warnings: ['Row 3: the same text for acc_tw within a day.'],
    firstFailedLink: '#gid=0&range=A5',
  };
}

/** Requests the scripted service received, parsed. */
export interface ScriptedService {
  handler: FetchHandler;
  requests: Array<{ method: string; path: string; body: unknown; headers: Record<string, string> }>;
}

/** A scripted service: POST /v1/runs (dry run or accepted), GET/cancel a run, the sheets endpoints. */
export function scriptedService(
  overrides: Partial<Record<string, (body: unknown) => FakeHttpAnswer>> = {},
): ScriptedService {
  const requests: ScriptedService['requests'] = [];
  const handler: FetchHandler = (url, params) => {
    const path = new URL(url).pathname + new URL(url).search;
    const body = params.payload ? (JSON.parse(params.payload) as unknown) : undefined;
    requests.push({ method: params.method, path, body, headers: params.headers });
    const route = `${params.method.toUpperCase()} ${new URL(url).pathname}`;
    const override = overrides[route];
    if (override) return override(body);
    if (route === 'POST /v1/runs') {
      const req = body as RunRequest;
      return req.mode === 'dry-run'
        ? { status: 200, body: dryRunAnswerFor(req) }
        : { status: 202, body: { runId: 'run_1', joined: false } };
    }
    if (route === 'GET /v1/runs/run_1') return { status: 200, body: statusAnswer('run_1', 'running') };
    if (route === 'GET /v1/runs/run_1/report') return { status: 200, body: reportAnswer('run_1') };
    if (route === 'POST /v1/runs/run_1/cancel') return { status: 200, body: statusAnswer('run_1', 'cancelled') };
    if (route === 'POST /v1/statuses/refresh')
      return {
        status: 200,
        body: { checked: 0, changed: 0, unavailable: 0, more: false, message: 'Nothing to refresh.' },
      };
    if (route === 'GET /v1/sheets/service-account')
      return { status: 200, body: { email: 'writer@project.iam.gserviceaccount.com' } };
    if (route === 'POST /v1/sheets/check-access')
      return {
        status: 200,
        body: { canEdit: false, message: 'Share the sheet with writer@project.iam.gserviceaccount.com as an editor.' },
      };
    return { status: 404, body: { error: 'not_found', message: 'No such endpoint.' } };
  };
  return { handler, requests };
}
