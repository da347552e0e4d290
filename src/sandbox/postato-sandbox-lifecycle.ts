/**
 * Post lifecycle of the Postato sandbox on its clock: scheduled → (at scheduledAt) queued → publishing → published
 * or failed, and pending_approval → rejected when an approval policy's expiry passes. Each step happens
 * `deliveryStepMs` after the previous one, so one big clock jump runs them all.
 */
import { randomInt } from 'node:crypto';
import { applyDecision } from './postato-sandbox-approvals';
import type { SandboxRandom } from './postato-sandbox-faults';
import { setStatus, type StoredPost } from './postato-sandbox-store';
import { checkPlatformRules } from './postato-sandbox-validation';
import type { WebhookEventType } from './postato-sandbox-webhooks';

/** What the lifecycle needs from the rest of the sandbox. */
export interface LifecycleDeps {
  stepMs: number;
  validateAt: 'create' | 'delivery';
  failShare: number;
  random: SandboxRandom;
  /** Status of the post's account, or undefined when the sandbox does not know it. */
  accountStatus(stored: StoredPost): 'connected' | 'token_expired' | 'suspended' | undefined;
  /** Username shown in the platform URL. */
  accountUsername(stored: StoredPost): string;
  emit(stored: StoredPost, type: WebhookEventType, extra?: Record<string, unknown>): void;
  /** The id of a media item the post uses that was deleted, or null. */
  missingMedia(stored: StoredPost): string | null;
  /** Called when a post is published (its media can no longer be deleted). */
  published(stored: StoredPost): void;
}

function digits(n: number): string {
  let s = String(randomInt(1, 10));
  for (let i = 1; i < n; i++) s += String(randomInt(0, 10));
  return s;
}

function platformLink(platform: string, username: string, id: string): string {
  switch (platform) {
    case 'twitter':
      return `https://x.com/${username}/status/${id}`;
    case 'instagram':
      return `https://www.instagram.com/p/${id}/`;
    case 'linkedin':
      return `https://www.linkedin.com/feed/update/urn:li:share:${id}/`;
    case 'tiktok':
      return `https://www.tiktok.com/@${username}/video/${id}`;
    default:
      return `https://www.youtube.com/watch?v=${id}`;
  }
}

/** Why delivery of this post fails, or null when it goes out. */
function deliveryFailure(stored: StoredPost, deps: LifecycleDeps): string | null {
  const missing = deps.missingMedia(stored);
  if (missing)
    return `media_not_found: media ${missing} was deleted before delivery; upload it again and update the post`;
  if (deps.validateAt === 'delivery') {
    const [first] = checkPlatformRules(stored.post);
    if (first) return `${first.code}: ${first.field} ${first.message}`;
  }
  const accountStatus = deps.accountStatus(stored);
  if (accountStatus && accountStatus !== 'connected') {
    return `account_${accountStatus}: account ${stored.post.accountId} is ${accountStatus}; reconnect it in Postato`;
  }
  if (deps.failShare > 0 && deps.random.next() < deps.failShare) {
    return 'platform_error: the platform rejected the post (simulated delivery failure)';
  }
  return null;
}

/** Runs one lifecycle step of a due post; returns false when the post had nothing to do. */
function step(stored: StoredPost, deps: LifecycleDeps): boolean {
  const at = stored.dueAt;
  if (at === null) return false;
  const post = stored.post;
  switch (post.status) {
    case 'pending_approval':
      applyDecision(stored, 'expired', null, null, { now: at, stepMs: deps.stepMs, emit: deps.emit });
      return true;
    case 'scheduled':
      setStatus(post, 'queued', at);
      stored.dueAt = at + deps.stepMs;
      deps.emit(stored, 'post.queued');
      return true;
    case 'queued':
      setStatus(post, 'publishing', at);
      stored.dueAt = at + deps.stepMs;
      return true;
    case 'publishing': {
      stored.dueAt = null;
      const failure = deliveryFailure(stored, deps);
      if (failure) {
        post.error = failure;
        setStatus(post, 'failed', at);
        deps.emit(stored, 'post.failed');
      } else {
        const id = post.platform === 'twitter' ? digits(19) : digits(16);
        post.platformPostId = id;
        post.platformUrl = platformLink(post.platform, deps.accountUsername(stored), id);
        setStatus(post, 'published', at);
        deps.published(stored);
        deps.emit(stored, 'post.published');
      }
      return true;
    }
    default:
      stored.dueAt = null;
      return false;
  }
}

/** Runs every lifecycle step due at `now`, oldest due first, until none is left. */
export function runDueLifecycle(posts: () => Iterable<StoredPost>, now: number, deps: LifecycleDeps): number {
  let steps = 0;
  for (;;) {
    const due = [...posts()]
      .filter((p) => p.dueAt !== null && p.dueAt <= now)
      .sort((a, b) => (a.dueAt as number) - (b.dueAt as number) || a.seq - b.seq);
    if (due.length === 0) return steps;
    for (const p of due) if (step(p, deps)) steps += 1;
  }
}
