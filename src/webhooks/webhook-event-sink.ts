/** The port through which a verified Postato webhook event reaches the ledger (which then feeds the write-back). */
import type { WorkspaceSecret } from './webhook-signature';

export type { WorkspaceSecret };

export interface DeliveryEvent {
  /** The workspace whose webhook secret signed the delivery: the event may only touch that workspace's posts. */
  workspaceId: string;
  /** Postato's event id (evt_…), used to ignore duplicates (per workspace). */
  eventId: string;
  type: string;
  postId: string;
  /** Postato's post status after the event (published, failed, …); '' when the event does not say. */
  status: string;
  platformPostId?: string;
  platformUrl?: string;
  error?: string;
  /** approval.decided: the reviewer's decision (approved, rejected, changes_requested, expired). */
  decision?: string;
  /** approval.decided: the reviewer's comment, when they gave one (the reason of a rejection). */
  comment?: string;
  /** When Postato created the event (ISO). */
  createdAt: string;
}

/** What became of a delivery event. */
export type DeliveryResult = 'applied' | 'duplicate' | 'parked' | 'unknown_post';

export interface WebhookEventSink {
  /**
   * Applies an event once, to posts of `event.workspaceId` only. Returns 'applied', 'duplicate' (event id seen before
   * for this workspace), 'parked' (no row of this workspace has this post id yet: kept, and applied when the post is
   * recorded) or 'unknown_post' (no such row, and an event that could not change one: acknowledged and ignored).
   */
  applyDeliveryEvent(event: DeliveryEvent): Promise<DeliveryResult>;
}

/** Where webhook secrets are kept (one per Postato workspace), written by the registration command. */
export interface WebhookSecretStore {
  /** The secrets of one workspace, or of every workspace when `workspaceId` is undefined, each with its workspace. */
  secretsFor(workspaceId: string | undefined): Promise<WorkspaceSecret[]>;
  saveSecret(workspaceId: string, secret: string, webhookId?: string): Promise<void>;
}
