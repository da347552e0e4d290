/**
 * In-memory state of the Postato sandbox: posts (with their owner and idempotency key), auto-created accounts,
 * workspaces seen per tenant, registered webhooks and per-tenant counters. Everything is scoped by tenant.
 */
import type { SandboxContentItem, SandboxMediaRef } from './postato-sandbox-validation';

/** Post statuses as §16 defines them. */
export type SandboxPostStatus = 'draft' | 'scheduled' | 'queued' | 'publishing' | 'published' | 'failed' | 'cancelled';

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
  private seq = 0;

  /** The counters of a tenant, created on first use. */
  countersOf(tenantId: string): TenantCounters {
    let c = this.counters.get(tenantId);
    if (!c) {
      c = { create: 0, write: 0, read: 0, rateLimited: 0, replayed: 0, validationFailed: 0 };
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
    return stored;
  }

  /** A post visible to this tenant in this workspace, or undefined. */
  findPost(tenantId: string, workspaceId: string, postId: string): StoredPost | undefined {
    const p = this.posts.get(postId);
    return p && p.tenantId === tenantId && p.workspaceId === workspaceId ? p : undefined;
  }

  /** Posts of one tenant's workspace, newest first. */
  postsOf(tenantId: string, workspaceId: string): StoredPost[] {
    return [...this.posts.values()]
      .filter((p) => p.tenantId === tenantId && p.workspaceId === workspaceId)
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
    this.autoAccounts.clear();
    this.workspaces.clear();
    this.webhooks.length = 0;
    this.counters.clear();
    this.seq = 0;
  }
}
