/**
 * Registers this service's webhook endpoint with Postato for one workspace and stores the secret Postato returns
 * (shown only once) in a WebhookSecretStore. The API key is a parameter, never logged and never part of an error.
 */
import { z } from 'zod';
import { AppError, BadRequestError } from '../errors';
import type { WebhookSecretStore } from './webhook-event-sink';
import { POSTATO_WEBHOOK_PATH } from './postato-webhook-router';

/** The events the service subscribes to (the delivery ones change rows; the others keep the log complete). */
export const WEBHOOK_EVENTS = [
  'post.published',
  'post.failed',
  'post.scheduled',
  'post.queued',
  'approval.requested',
  'approval.decided',
] as const;

const registrationResponse = z.object({
  id: z.string().min(1).optional(),
  secret: z.string().min(8),
  events: z.array(z.string()).optional(),
});

export interface RegisterWebhookArgs {
  /** Postato base URL (POSTATO_API_URL). */
  apiUrl: string;
  apiKey: string;
  workspaceId: string;
  /** Public base URL of this service (https://…); the webhook path and the workspace are appended. */
  publicUrl: string;
  store: WebhookSecretStore;
  events?: readonly string[];
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export interface RegisteredWebhook {
  webhookId?: string;
  /** The full URL Postato will call. */
  url: string;
  events: string[];
}

/** The URL Postato calls for `workspaceId`: the workspace rides in the query so the route tries only its secrets. */
export function webhookUrlFor(publicUrl: string, workspaceId: string): string {
  let base: URL;
  try {
    base = new URL(publicUrl);
  } catch {
    throw new BadRequestError(
      `The public URL "${publicUrl}" is not a URL. Pass the https:// address where Postato can reach this service.`,
    );
  }
  if (base.protocol !== 'https:' && base.hostname !== '127.0.0.1' && base.hostname !== 'localhost') {
    throw new BadRequestError(
      'Postato delivers webhooks to https:// URLs only. Pass the https:// address of this service.',
    );
  }
  const url = new URL(POSTATO_WEBHOOK_PATH.replace(/^\//, ''), base.href.endsWith('/') ? base.href : `${base.href}/`);
  url.searchParams.set('workspace', workspaceId);
  return url.toString();
}

/** Calls POST {apiUrl}/v1/workspaces/{ws}/webhooks and saves the returned secret. */
export async function registerPostatoWebhook(args: RegisterWebhookArgs): Promise<RegisteredWebhook> {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(args.workspaceId)) {
    throw new BadRequestError('The workspace id must be letters, digits, _ or - (e.g. wks_01H…).');
  }
  const url = webhookUrlFor(args.publicUrl, args.workspaceId);
  const events = [...(args.events ?? WEBHOOK_EVENTS)];
  const endpoint = new URL(
    `v1/workspaces/${encodeURIComponent(args.workspaceId)}/webhooks`,
    args.apiUrl.endsWith('/') ? args.apiUrl : `${args.apiUrl}/`,
  );
  const doFetch = args.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await doFetch(endpoint, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${args.apiKey}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
      },
      body: JSON.stringify({ url, events }),
      signal: AbortSignal.timeout(args.timeoutMs ?? 15_000),
    });
  } catch {
    throw new AppError(
      'postato_unreachable',
      `Postato could not be reached at ${endpoint.origin}. Check POSTATO_API_URL and the network.`,
      {
        status: 502,
        retryable: true,
      },
    );
  }
  const text = await res.text();
  if (!res.ok) {
    const hint =
      res.status === 401
        ? 'The Postato API key was refused: check POSTATO_API_KEY.'
        : res.status === 403
          ? 'The Postato API key may not manage this workspace: use a key with access to it.'
          : res.status === 404
            ? 'Postato does not know this workspace: check the workspace id.'
            : `Postato answered ${res.status}.`;
    throw new AppError('webhook_registration_failed', `Registering the webhook failed. ${hint}`, { status: 502 });
  }
  let parsed: z.infer<typeof registrationResponse>;
  try {
    parsed = registrationResponse.parse(JSON.parse(text));
  } catch {
    throw new AppError(
      'webhook_registration_failed',
      'Postato answered the webhook registration without a secret; nothing was stored.',
      { status: 502 },
    );
  }
  await args.store.saveSecret(args.workspaceId, parsed.secret, parsed.id);
  return { webhookId: parsed.id, url, events: parsed.events ?? events };
}
