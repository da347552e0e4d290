/**
 * What the end-to-end tests on the demo stack (scripts/demo-stack.ts) do alike: call the service over HTTP as the
 * add-on does, read a tab of the Sheets fake by row key, and publish a tab's rows, waiting for the run to end.
 */
import type { DemoStack } from '../scripts/demo-stack';
import type { RunAccepted, RunMode, RunStatusResponse } from '../appsscript/shared/contract';
import { until } from './wait-until';

/** A tab of the Sheets fake, and the Postato workspace its rows go to. */
export interface StackTab {
  spreadsheetId: string;
  sheetName: string;
  workspaceId: string;
}

/** Sends JSON to the service with the stack's credentials (plus `headers`) and answers the status and parsed body. */
export type StackCall = <T>(
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: T }>;

/** `call` for the stack `stackOf()` answers once started (tests start it in beforeAll). */
export function stackCaller(stackOf: () => DemoStack): StackCall {
  return async <T>(method: 'GET' | 'POST', route: string, body?: unknown, headers: Record<string, string> = {}) => {
    const stack = stackOf();
    const res = await fetch(stack.url + route, {
      method,
      headers: { ...stack.headers, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
}

/** The helpers of a test that publishes one tab of the stack's Sheets fake. */
export function demoStackTab(stackOf: () => DemoStack, tab: StackTab) {
  const call = stackCaller(stackOf);
  const values = () => stackOf().sheets.getValues(tab.spreadsheetId, tab.sheetName);

  /** The row whose Key is `key`, as column name → cell text ('' for a missing row or cell). */
  const rowOf = (key: string): Record<string, string> => {
    const [header = [], ...rows] = values();
    const row = rows.find((r) => r[header.indexOf('Key')] === key) ?? [];
    return Object.fromEntries(header.map((h, i) => [h, row[i] ?? '']));
  };

  /** Waits until the run has ended and answers its last status. */
  const runEnded = async (runId: string, what = 'the run to end'): Promise<RunStatusResponse> => {
    let status: RunStatusResponse | undefined;
    await until(what, async () => {
      status = (await call<RunStatusResponse>('GET', `/v1/runs/${runId}`)).body;
      return status.state === 'done';
    });
    return status!;
  };

  /** Starts a run of every row of the tab as the sidebar sends them; expects the 202 and answers the run id. */
  const startTabRun = async (mode: RunMode = 'publish'): Promise<string> => {
    const [header = [], ...rows] = values();
    const accepted = await call<RunAccepted>('POST', '/v1/runs', {
      mode,
      spreadsheetId: tab.spreadsheetId,
      sheetName: tab.sheetName,
      sheetId: 0,
      spreadsheetTimeZone: 'America/New_York',
      workspaceId: tab.workspaceId,
      header,
      rows: rows.map((values, i) => ({ rowNumber: i + 2, values })),
    });
    expect(accepted.status).toBe(202);
    return accepted.body.runId;
  };

  return { call, rowOf, runEnded, startTabRun };
}
