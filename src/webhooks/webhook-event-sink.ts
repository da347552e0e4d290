/** The port through which a verified Postato webhook event reaches the ledger (which then feeds the write-back). */

export interface DeliveryEvent {
  /** Postato's event id (evt_…), used to ignore duplicates. */
  eventId: string;
  type: string;
  postId: string;
  /** Postato's post status after the event (published, failed, …). */
  status: string;
  platformPostId?: string;
  platformUrl?: string;
  error?: string;
  /** When Postato created the event (ISO). */
  createdAt: string;
}

export interface WebhookEventSink {
  /**
   * Applies an event once. Returns 'applied', 'duplicate' (event id seen before) or 'unknown_post'
   * (no row of ours has this post id; acknowledged and ignored).
   */
  applyDeliveryEvent(event: DeliveryEvent): Promise<'applied' | 'duplicate' | 'unknown_post'>;
}

/** Where webhook secrets are kept (one per Postato workspace), written by the registration command. */
export interface WebhookSecretStore {
  secretsFor(workspaceId: string | undefined): Promise<string[]>;
  saveSecret(workspaceId: string, secret: string, webhookId?: string): Promise<void>;
}
