/** Test doubles of the webhook ports: an in-memory event sink that remembers events and posts, and a secret store. */
import type {
  DeliveryEvent,
  WebhookEventSink,
  WebhookSecretStore,
  WorkspaceSecret,
} from '../../src/webhooks/webhook-event-sink';

/** A sink that knows a fixed set of post ids, ignores repeated event ids and records what it applied. */
export class InMemoryWebhookSink implements WebhookEventSink {
  readonly applied: DeliveryEvent[] = [];
  private readonly seen = new Set<string>();
  constructor(readonly knownPostIds: Set<string> = new Set()) {}

  async applyDeliveryEvent(event: DeliveryEvent): Promise<'applied' | 'duplicate' | 'unknown_post'> {
    if (this.seen.has(event.eventId)) return 'duplicate';
    this.seen.add(event.eventId);
    if (!this.knownPostIds.has(event.postId)) return 'unknown_post';
    this.applied.push(event);
    return 'applied';
  }
}

/** Secrets per workspace; `secretsFor(undefined)` returns all of them. */
export class InMemoryWebhookSecretStore implements WebhookSecretStore {
  readonly byWorkspace = new Map<string, { secret: string; webhookId?: string }[]>();

  async secretsFor(workspaceId: string | undefined): Promise<WorkspaceSecret[]> {
    const entries =
      workspaceId === undefined
        ? [...this.byWorkspace.entries()]
        : [[workspaceId, this.byWorkspace.get(workspaceId) ?? []] as const];
    return entries.flatMap(([ws, list]) => list.map((e) => ({ workspaceId: ws, secret: e.secret })));
  }

  async saveSecret(workspaceId: string, secret: string, webhookId?: string): Promise<void> {
    const list = this.byWorkspace.get(workspaceId) ?? [];
    list.push({ secret, webhookId });
    this.byWorkspace.set(workspaceId, list);
  }
}
