/**
 * POST /v1/webhooks/postato: Postato's delivery events. Authenticated by the signature (not by the add-on's auth),
 * verified over the raw body, then handed to the ledger through the WebhookEventSink port. Bad input gets a 400,
 * never a 500; events we already know or don't track get a 2xx so Postato stops retrying them. An event for a post
 * not recorded yet (its create still in flight, or its answer lost) is parked by the ledger and also gets a 2xx: it
 * is applied when the post is recorded, which Postato's few, undocumented retries could not be relied on to reach.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { Clock } from '../clock';
import type { Logger } from '../logger';
import { BadRequestError } from '../errors';
import type { DeliveryResult, WebhookEventSink, WebhookSecretStore } from './webhook-event-sink';
import { matchWebhookSignature, type SignatureFailure } from './webhook-signature';

/** Where Postato delivers events; the app keeps the raw body for this path only. */
export const POSTATO_WEBHOOK_PATH = '/v1/webhooks/postato';

/**
 * Events that change a row: delivery outcomes and a reviewer's approval decisions (the post waits for approval, then
 * moves on to scheduled/queued or ends rejected). The others (post.queued, post.scheduled, …) are acknowledged and
 * ignored.
 */
export const DELIVERY_EVENT_TYPES = [
  'post.published',
  'post.failed',
  'approval.requested',
  'approval.decided',
] as const;

/** Upper bound of a webhook body: Postato's envelopes are a few hundred bytes. */
export const WEBHOOK_BODY_LIMIT_BYTES = 64 * 1024;

const idString = z.string().min(1).max(200);
/**
 * The envelope Postato sends. Unknown fields are stripped rather than refused: the body is signed by Postato, and
 * refusing a field it adds later would make it retry the delivery forever.
 */
const envelopeSchema = z.object({
  id: idString,
  type: z.string().min(1).max(100),
  createdAt: z.string().min(1).max(100),
  data: z.object({
    postId: idString,
    // approval.decided carries {decision, reviewerId, comment} in the docs and may not name the post's status.
    status: z.string().min(1).max(50).optional(),
    platform: z.string().max(50).optional(),
    accountId: z.string().max(200).optional(),
    platformPostId: z.string().max(500).optional(),
    platformUrl: z.string().max(2000).optional(),
    error: z.string().max(5000).optional(),
    // approval.decided: approved, rejected, changes_requested or expired, with the reviewer's comment when given.
    decision: z.string().max(50).nullish(),
    reviewerId: z.string().max(200).nullish(),
    comment: z.string().max(5000).nullish(),
  }),
});

/** The parsed envelope. */
export type PostatoWebhookEnvelope = z.infer<typeof envelopeSchema>;

export interface PostatoWebhookRouterDeps {
  sink: WebhookEventSink;
  secrets: WebhookSecretStore;
  clock: Clock;
  logger: Logger;
  /** Seconds a signature stays valid (Postato: 300). */
  toleranceSeconds?: number;
}

const SIGNATURE_MESSAGES: Record<SignatureFailure, string> = {
  missing: 'The X-Webhook-Signature header is missing.',
  malformed: 'The X-Webhook-Signature header must look like t=<unix seconds>,v1=<hex>.',
  stale: 'The webhook signature timestamp is more than 300 s away from now; the delivery is refused as a replay.',
  mismatch: 'The webhook signature does not match any registered secret for this workspace.',
};

/** Builds the router; mount it through createApp's `routers` (the app keeps this path's raw body and skips auth). */
export function createPostatoWebhookRouter(deps: PostatoWebhookRouterDeps): Router {
  const router = Router();
  router.post(
    POSTATO_WEBHOOK_PATH,
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT_BYTES }),
    async (req, res) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const workspace =
        typeof req.query.workspace === 'string' && req.query.workspace !== '' ? req.query.workspace : undefined;
      const secrets = await deps.secrets.secretsFor(workspace);
      const verdict = matchWebhookSignature({
        header: req.get('x-webhook-signature'),
        rawBody,
        secrets,
        nowMs: deps.clock.now(),
        toleranceSeconds: deps.toleranceSeconds,
      });
      if (!verdict.ok) {
        deps.logger.warn({ reason: verdict.reason, workspace }, 'postato webhook refused');
        throw new BadRequestError(SIGNATURE_MESSAGES[verdict.reason], undefined, 'bad_signature');
      }

      const envelope = parseEnvelope(rawBody);
      if (!(DELIVERY_EVENT_TYPES as readonly string[]).includes(envelope.type)) {
        res.status(200).json({ received: true, result: 'ignored' });
        return;
      }
      const { data } = envelope;
      // The event may only touch posts of the workspace(s) whose secret signed it: a secret of one workspace must not
      // rewrite another workspace's rows, whatever post id the body names.
      const results: DeliveryResult[] = [];
      for (const workspaceId of verdict.workspaceIds) {
        results.push(
          await deps.sink.applyDeliveryEvent({
            workspaceId,
            eventId: envelope.id,
            type: envelope.type,
            postId: data.postId,
            status: data.status ?? '',
            platformPostId: data.platformPostId,
            platformUrl: httpsUrlOrUndefined(data.platformUrl),
            error: data.error,
            ...(data.decision ? { decision: data.decision } : {}),
            ...(data.comment ? { comment: data.comment } : {}),
            createdAt: envelope.createdAt,
          }),
        );
      }
      const result = (['applied', 'parked', 'duplicate'] as const).find((r) => results.includes(r)) ?? 'unknown_post';
      deps.logger.info({ eventId: envelope.id, type: envelope.type, postId: data.postId, result }, 'postato webhook');
      res.status(200).json({ received: true, result });
    },
  );
  return router;
}

/**
 * The post's public link, only when it is an absolute https:// URL: it is written into the sheet's Link column,
 * where a javascript:, data: or plain-http link must never appear, whoever signed the event.
 */
export function httpsUrlOrUndefined(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' && url.hostname !== '' && !url.username && !url.password ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function parseEnvelope(rawBody: Buffer): PostatoWebhookEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new BadRequestError('The webhook body is not valid JSON.', undefined, 'bad_json');
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    throw new BadRequestError(
      'The webhook body is not a Postato event envelope.',
      z.flattenError(parsed.error).fieldErrors,
      'bad_event',
    );
  }
  return parsed.data;
}
