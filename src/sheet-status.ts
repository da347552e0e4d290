/**
 * The Status word a row shows for a Postato post status, in one place: the publish step (create/update answers), the
 * webhook sink and the approval refresh all put the same word in the sheet for the same post.
 */
import type { SheetStatus } from '../appsscript/shared/contract';
import { normalizePostStatus } from './postato/postato-schemas';

/** The sheet status of a post in Postato status `status` (either vocabulary); unknown in-flight states read QUEUED. */
export function sheetStatusOfPost(status: string): SheetStatus {
  switch (normalizePostStatus(status)) {
    case 'published':
      return 'PUBLISHED';
    case 'failed':
      return 'DELIVERY FAILED';
    case 'cancelled':
      return 'CANCELLED';
    case 'scheduled':
      return 'SCHEDULED';
    case 'draft':
      return 'DRAFT';
    case 'pending_approval':
      return 'PENDING APPROVAL';
    case 'rejected':
      return 'REJECTED';
    default:
      return 'QUEUED';
  }
}

/** What a user reads in the Error cell when a reviewer's decision ends a post in Postato. */
export const approvalMessages = {
  rejected: (comment: string | undefined) =>
    `A reviewer rejected this post in Postato${comment ? `: ${comment.trim()}` : ' (no reason given)'}. ` +
    'Postato will not send it: to send a fixed version, edit the row, clear its Key and Post ID (the add-on fills a new key) and publish again.',
  expired: () =>
    'Nobody decided on this post in Postato before its approval request expired, so Postato will not send it. ' +
    'To send it, clear its Key and Post ID (the add-on fills a new key) and publish again.',
  changesRequested: (comment: string | undefined) =>
    `A reviewer asked for changes in Postato${comment ? `: ${comment.trim()}` : ''}. ` +
    'Postato keeps the post as a draft: make the changes and resubmit it in Postato, or clear this row’s Key and Post ID and publish it again as a new post.',
};

/** A change a webhook event makes to a row: its new status and, when set, its new Error cell. */
export interface EventChange {
  status: SheetStatus;
  error?: string;
}

/**
 * The change a webhook event makes to a row whose Status is `current`, or undefined for none. A decision applies only
 * to a row still PENDING APPROVAL: Postato delivers at least once and in no promised order, so a decision retried
 * late must not pull back a row that has moved on (PUBLISHED, DELIVERY FAILED, CANCELLED). approval.requested changes
 * nothing: the create answer already put PENDING APPROVAL in the row, and a request retried after its decision must not
 * put it back.
 */
export function sheetChangeOfEvent(
  event: { type: string; status: string; error?: string; decision?: string; comment?: string },
  current: string | null,
  hasTime: boolean,
): EventChange | undefined {
  if (event.type === 'approval.decided') {
    if (current !== 'PENDING APPROVAL') return undefined;
    switch (event.decision) {
      case 'approved':
        // Without the post's status in the event, a post with a time waits for it; one without is sent now.
        return {
          status: event.status ? sheetStatusOfPost(event.status) : hasTime ? 'SCHEDULED' : 'QUEUED',
          error: '',
        };
      case 'rejected':
        return { status: 'REJECTED', error: approvalMessages.rejected(event.comment) };
      case 'expired':
        return { status: 'REJECTED', error: approvalMessages.expired() };
      case 'changes_requested':
        return { status: 'REJECTED', error: approvalMessages.changesRequested(event.comment) };
      default:
        // A decision this service does not know: follow the post's status when the event names it; without one, the
        // docs say any decision but "approved" is a rejection or an expiry.
        if (event.status === 'pending_approval') return undefined;
        return event.status
          ? { status: sheetStatusOfPost(event.status) }
          : { status: 'REJECTED', error: approvalMessages.rejected(event.comment) };
    }
  }
  // A delivery event that does not name the post's status still says it by its type.
  const status =
    event.status || (event.type === 'post.published' ? 'published' : event.type === 'post.failed' ? 'failed' : '');
  if (status === 'published') return { status: 'PUBLISHED', error: '' };
  if (status === 'failed')
    return {
      status: 'DELIVERY FAILED',
      error: `Postato could not deliver the post: ${event.error ?? 'no reason given'}.`,
    };
  if (status === 'cancelled') return { status: 'CANCELLED' };
  return undefined;
}

/** What a status refresh reads of a post: its status and, when Postato gives them, its error, link and approval. */
export interface PostSnapshot {
  status: string;
  error?: string;
  platformUrl?: string;
  approval?: { status?: string; comment?: string | null };
}

/** Sheet statuses a status refresh follows: the post may still move on at Postato. */
export const REFRESHABLE_STATUSES = [
  'PENDING APPROVAL',
  'SCHEDULED',
  'QUEUED',
] as const satisfies readonly SheetStatus[];

/**
 * The change a status refresh makes to a row showing `current`, from the post as Postato holds it now, or undefined
 * for none. Only rows that may still move are refreshed (REFRESHABLE_STATUSES); the post's status is the truth, so a
 * refresh moves the row whichever way Postato went (approved, rejected, delivered, failed, cancelled).
 */
export function sheetChangeOfPost(post: PostSnapshot, current: string | null): EventChange | undefined {
  if (!(REFRESHABLE_STATUSES as readonly (string | null)[]).includes(current)) return undefined;
  const status = normalizePostStatus(post.status);
  const decision = post.approval?.status;
  const comment = post.approval?.comment ?? undefined;
  let change: EventChange;
  if (status === 'rejected') {
    change = {
      status: 'REJECTED',
      error: decision === 'expired' ? approvalMessages.expired() : approvalMessages.rejected(comment),
    };
  } else if (status === 'draft' && decision === 'changes_requested') {
    change = { status: 'REJECTED', error: approvalMessages.changesRequested(comment) };
  } else if (status === 'failed') {
    change = {
      status: 'DELIVERY FAILED',
      error: `Postato could not deliver the post: ${post.error ?? 'no reason given'}.`,
    };
  } else {
    change = { status: sheetStatusOfPost(status), ...(current === 'PENDING APPROVAL' ? { error: '' } : {}) };
  }
  return change.status === current ? undefined : change;
}
