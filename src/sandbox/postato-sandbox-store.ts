/**
 * In-memory state of the Postato sandbox: posts (with their owner and idempotency key), approvals, media, auto-created
 * accounts, workspaces seen per tenant, registered webhooks and per-tenant counters. Everything is scoped by tenant.
 */
import type { SandboxContentItem, SandboxMediaRef } from './postato-sandbox-validation';

/** Post statuses as §16 defines them, plus the approval gate's two (§14). */
export type SandboxPostStatus =
  | 'draft'
  | 'pending_approval'
  | 'scheduled'
  | 'queued'
  | 'publishing'
  | 'published'
  | 'failed'
  | 'rejected'
  | 'cancelled';

/** An approval's state: `pending` until a reviewer (or the expiry) decides; decisions never change afterwards. */
export type SandboxApprovalStatus = 'pending' | 'approved' | 'rejected' | 'changes_requested' | 'expired';

/** The approval record a post carries (the latest one when changes were requested and it was resubmitted). */
export interface SandboxApproval {
  id: string;
  status: SandboxApprovalStatus;
  policyId: string;
  requestedAt: string;
  decidedAt: string | null;
  reviewerId: string | null;
  comment: string | null;
}

/** Media status: pending (URL issued) → uploaded (confirmed); failed (URL expired unused); expired (deleted). */
export type SandboxMediaStatus = 'pending' | 'uploaded' | 'failed' | 'expired';

/** The media object the API returns. */
export interface SandboxMedia {
  id: string;
  type: 'image' | 'video' | 'document';
  mimeType: string;
  filename: string | null;
  /** Declared at upload-url time, then the size actually received. */
  sizeBytes: number | null;
  status: SandboxMediaStatus;
  url: string | null;
  createdAt: string;
  expiresAt: string;
  uploadedAt: string | null;
}

/** A media item with what only the sandbox knows: owner, token, bytes and every upload attempt. */
export interface StoredMedia {
  media: SandboxMedia;
  tenantId: string;
  workspaceId: string;
  /** Secret part of the upload URL. */
  uploadToken: string;
  bytes: Buffer | null;
  sha256: string | null;
  md5: string | null;
  /** Used by a post that was published: it can no longer be deleted. */
  usedInPublishedPost: boolean;
  seq: number;
}

/** One media request the sandbox handled, kept for inspection ("each file uploaded exactly once"). */
export interface SandboxMediaEvent {
  at: number;
  kind: 'upload_url' | 'put' | 'confirm' | 'delete';
  tenantId: string;
  workspaceId: string;
  mediaId: string;
  /** HTTP status the sandbox answered. */
  status: number;
  /** Error code when it failed (e.g. content_type_mismatch, upload_url_expired, simulated_failure). */
  error?: string;
  /** For a PUT that stored bytes: their size and sha256. */
  sizeBytes?: number;
  sha256?: string;
}

/** The post object the API returns. */
export interface SandboxPost {
  id: string;
  status: SandboxPostStatus;
  platform: string;
  accountId: string;
  postType: string;
  content: SandboxContentItem[];
  media?: SandboxMediaRef[];
  options?: Record<string, unknown>;
  scheduledAt: string | null;
  createdAt: string;
  updatedAt: string;
  items: Array<{ id: string; index: number; text: string; status: SandboxPostStatus }>;
  platformPostId?: string;
  platformUrl?: string;
  error?: string;
  approval?: SandboxApproval;
}

/** A post with what only the sandbox knows about it. */
export interface StoredPost {
  post: SandboxPost;
  tenantId: string;
  workspaceId: string;
  idempotencyKey?: string;
  seq: number;
  /** Sandbox-clock ms of the next lifecycle step, or null when nothing is pending. */
  dueAt: number | null;
}

/** Sets a post's status (and its items') and `updatedAt`. */
export function setStatus(post: SandboxPost, status: SandboxPostStatus, atMs: number): void {
  post.status = status;
  post.updatedAt = new Date(atMs).toISOString();
  for (const item of post.items) item.status = status;
}

/** A post's approval as listed by GET /approvals (and the MCP get_approval_status shape plus the post's platform). */
export function approvalView(stored: StoredPost): Record<string, unknown> | undefined {
  const a = stored.post.approval;
  if (!a) return undefined;
  return {
    ...a,
    postId: stored.post.id,
    postStatus: stored.post.status,
    platform: stored.post.platform,
    accountId: stored.post.accountId,
  };
}

/** An account known to a tenant's workspace. */
export interface StoredAccount {
  id: string;
  workspaceId: string;
  platform: string;
  username: string;
  displayName: string;
  status: 'connected' | 'token_expired' | 'suspended';
}

/** A webhook registered over the API. */
export interface RegisteredWebhook {
  id: string;
  tenantId: string;
  workspaceId: string;
  url: string;
  events: string[];
  secret: string;
}

/** Per-tenant request counters shown by the inspection endpoint. */
export interface TenantCounters {
  create: number;
  write: number;
  read: number;
  media: number;
  rateLimited: number;
  replayed: number;
  validationFailed: number;
}

/** All mutable sandbox state; `reset()` forgets it. */
export class SandboxStore {
  readonly posts = new Map<string, StoredPost>();
  readonly autoAccounts = new Map<string, StoredAccount>();
  readonly workspaces = new Map<string, Map<string, number>>();
  readonly webhooks: RegisteredWebhook[] = [];
  readonly counters = new Map<string, TenantCounters>();
  /** Requests of each tenant being handled now, and the most ever handled at once (a client's per-tenant cap). */
  readonly inFlight = new Map<string, { now: number; max: number }>();
  readonly media = new Map<string, StoredMedia>();
  readonly mediaEvents: SandboxMediaEvent[] = [];
  /** Posts of each tenant's workspace, oldest first, so listing one workspace does not walk every post. */
  private readonly postsByWorkspace = new Map<string, StoredPost[]>();
  /** Posts created in each workspace, whatever the tenant (for a harness following progress). */
  private readonly createdByWorkspace = new Map<string, number>();
  private seq = 0;

  /** The counters of a tenant, created on first use. */
  countersOf(tenantId: string): TenantCounters {
    let c = this.counters.get(tenantId);
    if (!c) {
      c = { create: 0, write: 0, read: 0, media: 0, rateLimited: 0, replayed: 0, validationFailed: 0 };
      this.counters.set(tenantId, c);
    }
    return c;
  }

  /** Records that a tenant used a workspace (demo mode lists the ones it used). */
  touchWorkspace(tenantId: string, workspaceId: string, now: number): void {
    let m = this.workspaces.get(tenantId);
    if (!m) this.workspaces.set(tenantId, (m = new Map()));
    if (!m.has(workspaceId)) m.set(workspaceId, now);
  }

  /** Adds a post. */
  addPost(entry: Omit<StoredPost, 'seq'>): StoredPost {
    const stored = { ...entry, seq: ++this.seq };
    this.posts.set(entry.post.id, stored);
    const id = `${entry.tenantId}\u0000${entry.workspaceId}`;
    const list = this.postsByWorkspace.get(id);
    if (list) list.push(stored);
    else this.postsByWorkspace.set(id, [stored]);
    this.createdByWorkspace.set(entry.workspaceId, (this.createdByWorkspace.get(entry.workspaceId) ?? 0) + 1);
    return stored;
  }

  /** How many posts were created in a workspace (by any tenant). */
  createdIn(workspaceId: string): number {
    return this.createdByWorkspace.get(workspaceId) ?? 0;
  }

  /** A post visible to this tenant in this workspace, or undefined. */
  findPost(tenantId: string, workspaceId: string, postId: string): StoredPost | undefined {
    const p = this.posts.get(postId);
    return p && p.tenantId === tenantId && p.workspaceId === workspaceId ? p : undefined;
  }

  /** Posts of one tenant's workspace, newest first. */
  postsOf(tenantId: string, workspaceId: string): StoredPost[] {
    return [...(this.postsByWorkspace.get(`${tenantId}\u0000${workspaceId}`) ?? [])].reverse();
  }

  /** The post that carries this approval id, visible to this tenant in this workspace. */
  findPostByApproval(tenantId: string, workspaceId: string, approvalId: string): StoredPost | undefined {
    for (const p of this.posts.values()) {
      if (p.post.approval?.id === approvalId && p.tenantId === tenantId && p.workspaceId === workspaceId) return p;
    }
    return undefined;
  }

  /** Adds a media item. */
  addMedia(entry: Omit<StoredMedia, 'seq'>): StoredMedia {
    const stored = { ...entry, seq: ++this.seq };
    this.media.set(entry.media.id, stored);
    return stored;
  }

  /** A media item visible to this tenant in this workspace, or undefined. */
  findMedia(tenantId: string, workspaceId: string, mediaId: string): StoredMedia | undefined {
    const m = this.media.get(mediaId);
    return m && m.tenantId === tenantId && m.workspaceId === workspaceId ? m : undefined;
  }

  /** Media of one tenant's workspace, newest first. */
  mediaOf(tenantId: string, workspaceId: string): StoredMedia[] {
    return [...this.media.values()]
      .filter((m) => m.tenantId === tenantId && m.workspaceId === workspaceId)
      .sort((a, b) => b.seq - a.seq);
  }

  /** Auto-created accounts of one tenant's workspace. */
  autoAccountsOf(tenantId: string, workspaceId: string): StoredAccount[] {
    return [...this.autoAccounts.entries()]
      .filter(([k]) => k.startsWith(`${tenantId}\u0000${workspaceId}\u0000`))
      .map(([, a]) => a);
  }

  /** The auto-created account with this id, if any. */
  autoAccount(tenantId: string, workspaceId: string, accountId: string): StoredAccount | undefined {
    return this.autoAccounts.get(`${tenantId}\u0000${workspaceId}\u0000${accountId}`);
  }

  /** Creates an account for demo mode. */
  createAutoAccount(tenantId: string, account: StoredAccount): StoredAccount {
    this.autoAccounts.set(`${tenantId}\u0000${account.workspaceId}\u0000${account.id}`, account);
    return account;
  }

  /** Forgets everything. */
  reset(): void {
    this.posts.clear();
    this.postsByWorkspace.clear();
    this.createdByWorkspace.clear();
    this.autoAccounts.clear();
    this.workspaces.clear();
    this.webhooks.length = 0;
    this.counters.clear();
    this.inFlight.clear();
    this.media.clear();
    this.mediaEvents.length = 0;
    this.seq = 0;
  }
}
