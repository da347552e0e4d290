/**
 * The campaign command's client of a running postato-sheets service: the same endpoints, headers and bodies the add-on
 * uses (POST /v1/runs, GET /v1/runs/:id), authenticated with the shared secret and carrying the Postato API key in its
 * header. Neither ever appears in a message.
 */
import {
  POSTATO_API_KEY_HEADER,
  SHARED_SECRET_HEADER,
  type DryRunResponse,
  type ErrorBody,
  type RunAccepted,
  type RunRequest,
  type RunStatusResponse,
} from '../../appsscript/shared/contract';
import { CampaignError } from './campaign-errors';

/** What the command asks of the service. */
export interface CampaignServiceClient {
  dryRun(request: RunRequest): Promise<DryRunResponse>;
  publish(request: RunRequest): Promise<RunAccepted>;
  status(runId: string, since?: string): Promise<RunStatusResponse>;
}

export interface CampaignServiceClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  sharedSecret: string;
  apiKey: string;
  /** Sent as X-User-Id: runs belong to this user of the shared-secret install. */
  userId: string;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
}

/** Creates the client (Node's fetch). */
export function createCampaignServiceClient(o: CampaignServiceClientOptions): CampaignServiceClient {
  const base = o.baseUrl.replace(/\/+$/, '');
  const headers = {
    [SHARED_SECRET_HEADER]: o.sharedSecret,
    [POSTATO_API_KEY_HEADER]: o.apiKey,
    'x-user-id': o.userId,
    accept: 'application/json',
  };

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
      });
    } catch (err) {
      const why = (err as Error)?.name === 'TimeoutError' ? 'it did not answer in time' : 'the connection failed';
      throw new CampaignError(
        `Cannot reach the postato-sheets service at ${base} (${why}). Check that it is running and that POSTATO_SHEETS_SERVICE_URL points at it.`,
      );
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = parsed as Partial<ErrorBody> | undefined;
      const message = e?.message ?? `it answered HTTP ${res.status} without an explanation`;
      const hint =
        res.status === 401
          ? ' (this command sends AUTH_SHARED_SECRET as the shared secret)'
          : e?.error?.startsWith('postato_key')
            ? ' (this command reads the key from POSTATO_API_KEY)'
            : '';
      const retryAfter = res.status === 429 ? Number(res.headers.get('retry-after') ?? '') || 1 : undefined;
      throw new CampaignError(`The service refused the request: ${message}${hint}`, 2, retryAfter);
    }
    if (parsed === undefined)
      throw new CampaignError(`The service at ${base} answered ${method} ${path} without JSON.`);
    return { status: res.status, body: parsed as T };
  }

  return {
    dryRun: async (request) => (await call<DryRunResponse>('POST', '/v1/runs', request)).body,
    publish: async (request) => (await call<RunAccepted>('POST', '/v1/runs', request)).body,
    status: async (runId, since) =>
      (
        await call<RunStatusResponse>(
          'GET',
          `/v1/runs/${encodeURIComponent(runId)}${since ? `?since=${encodeURIComponent(since)}` : ''}`,
        )
      ).body,
  };
}
