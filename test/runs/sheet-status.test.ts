// The Status a row shows for a Postato post status and for a webhook event, including the approval decisions.
import { sheetChangeOfEvent, sheetChangeOfPost, sheetStatusOfPost } from '../../src/sheet-status';

const decided = (o: { status?: string; decision?: string; comment?: string }) => ({
  type: 'approval.decided',
  status: o.status ?? '',
  ...(o.decision ? { decision: o.decision } : {}),
  ...(o.comment ? { comment: o.comment } : {}),
});

describe('sheet status of a post and of a webhook event', () => {
  it('maps both vocabularies of post status, with the approval states', () => {
    expect(sheetStatusOfPost('pending_approval')).toBe('PENDING APPROVAL');
    expect(sheetStatusOfPost('rejected')).toBe('REJECTED');
    expect(sheetStatusOfPost('scheduled')).toBe('SCHEDULED');
    expect(sheetStatusOfPost('pending')).toBe('QUEUED');
    expect(sheetStatusOfPost('processing')).toBe('QUEUED');
    expect(sheetStatusOfPost('published')).toBe('PUBLISHED');
  });

  it('when a reviewer approves, then a pending row follows the post, or its time when the event names no status', () => {
    expect(
      sheetChangeOfEvent(decided({ decision: 'approved', status: 'scheduled' }), 'PENDING APPROVAL', true),
    ).toEqual({ status: 'SCHEDULED', error: '' });
    expect(sheetChangeOfEvent(decided({ decision: 'approved', status: 'queued' }), 'PENDING APPROVAL', true)).toEqual({
      status: 'QUEUED',
      error: '',
    });
    expect(sheetChangeOfEvent(decided({ decision: 'approved' }), 'PENDING APPROVAL', true)?.status).toBe('SCHEDULED');
    expect(sheetChangeOfEvent(decided({ decision: 'approved' }), 'PENDING APPROVAL', false)?.status).toBe('QUEUED');
  });

  it('when a reviewer rejects, lets it expire or asks for changes, then the row is REJECTED and the Error says why and what to do', () => {
    const r = sheetChangeOfEvent(decided({ decision: 'rejected', comment: ' Too long ' }), 'PENDING APPROVAL', true);
    expect(r?.status).toBe('REJECTED');
    expect(r?.error).toMatch(/^A reviewer rejected this post in Postato: Too long\. .*clear its Key and Post ID/);
    expect(sheetChangeOfEvent(decided({ decision: 'rejected' }), 'PENDING APPROVAL', true)?.error).toContain(
      '(no reason given)',
    );
    expect(sheetChangeOfEvent(decided({ decision: 'expired' }), 'PENDING APPROVAL', true)?.error).toContain('expired');
    const changes = sheetChangeOfEvent(
      decided({ decision: 'changes_requested', comment: 'Add the link' }),
      'PENDING APPROVAL',
      true,
    );
    expect(changes?.status).toBe('REJECTED');
    expect(changes?.error).toContain('asked for changes in Postato: Add the link');
    // The docs: any decision but "approved" is a rejection or an expiry.
    expect(sheetChangeOfEvent(decided({ decision: 'denied' }), 'PENDING APPROVAL', true)?.status).toBe('REJECTED');
  });

  it('when a decision or a request arrives late, then a row that moved on keeps its status', () => {
    for (const current of ['PUBLISHED', 'DELIVERY FAILED', 'CANCELLED', 'SCHEDULED', 'REJECTED']) {
      expect(sheetChangeOfEvent(decided({ decision: 'approved', status: 'queued' }), current, true)).toBeUndefined();
      expect(sheetChangeOfEvent(decided({ decision: 'rejected', status: 'rejected' }), current, true)).toBeUndefined();
    }
    const requested = { type: 'approval.requested', status: 'pending_approval' };
    expect(sheetChangeOfEvent(requested, 'SCHEDULED', true)).toBeUndefined();
  });

  it('maps delivery events, by their type when they name no status', () => {
    expect(sheetChangeOfEvent({ type: 'post.published', status: '' }, 'SCHEDULED', true)).toEqual({
      status: 'PUBLISHED',
      error: '',
    });
    expect(
      sheetChangeOfEvent({ type: 'post.failed', status: 'failed', error: 'token expired' }, 'QUEUED', true),
    ).toEqual({ status: 'DELIVERY FAILED', error: 'Postato could not deliver the post: token expired.' });
  });
});

describe('sheetChangeOfPost (status refresh)', () => {
  it('moves a waiting row the way Postato went, with the reviewer reason on a rejection', () => {
    expect(sheetChangeOfPost({ status: 'scheduled' }, 'PENDING APPROVAL')).toEqual({ status: 'SCHEDULED', error: '' });
    expect(
      sheetChangeOfPost(
        { status: 'rejected', approval: { status: 'rejected', comment: 'Off-brand' } },
        'PENDING APPROVAL',
      ),
    ).toEqual({
      status: 'REJECTED',
      error: expect.stringContaining('rejected this post in Postato: Off-brand.') as string,
    });
    expect(
      sheetChangeOfPost({ status: 'rejected', approval: { status: 'expired' } }, 'PENDING APPROVAL')?.error,
    ).toContain('expired');
    expect(
      sheetChangeOfPost(
        { status: 'draft', approval: { status: 'changes_requested', comment: 'Shorter' } },
        'PENDING APPROVAL',
      ),
    ).toMatchObject({ status: 'REJECTED' });
    expect(sheetChangeOfPost({ status: 'failed', error: 'token expired' }, 'SCHEDULED')).toEqual({
      status: 'DELIVERY FAILED',
      error: 'Postato could not deliver the post: token expired.',
    });
    expect(sheetChangeOfPost({ status: 'published' }, 'QUEUED')).toEqual({ status: 'PUBLISHED' });
  });

  it('changes nothing when the post did not move, or when the row has already ended', () => {
    expect(sheetChangeOfPost({ status: 'pending_approval' }, 'PENDING APPROVAL')).toBeUndefined();
    expect(sheetChangeOfPost({ status: 'scheduled' }, 'SCHEDULED')).toBeUndefined();
    expect(sheetChangeOfPost({ status: 'scheduled' }, 'REJECTED')).toBeUndefined();
    expect(sheetChangeOfPost({ status: 'failed' }, 'PUBLISHED')).toBeUndefined();
  });
});
