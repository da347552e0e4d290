import type { KnownPost } from '../../src/plan/dry-run-ports';
import { postBodyHash } from '../../src/plan/post-body-hash';
import { NOW, plan, tweet, type RowSpec } from './plan-fixtures';

/** Plans `specs` as Publish would, and returns what the ledger then remembers for each row (as publish-step does). */
function publishedAs(specs: RowSpec[], status = 'SCHEDULED'): Map<string, KnownPost> {
  const known = new Map<string, KnownPost>();
  plan(specs).rows.forEach((r, i) => {
    if (!r.body) throw new Error(`row ${r.rowNumber} would not be sent`);
    known.set(r.key!, {
      rowKey: r.key!,
      postId: `pst_${i}`,
      scheduledAt: r.body.scheduledAt!,
      bodyHash: postBodyHash(r.body),
      status,
    });
  });
  return known;
}

const withPostIds = (specs: RowSpec[], known: Map<string, KnownPost>): RowSpec[] =>
  specs.map((s) => ({ ...s, 'Post ID': known.get(s.Key as string)!.postId }));
const AT = '2025-06-03 09:00';

describe('planSheet marks rows CHANGED', () => {
  const specs = [tweet('k1'), tweet('k2', { 'Scheduled at': AT })];

  it('when nothing was edited, then no row is CHANGED and the summary counts none', () => {
    const known = publishedAs(specs);
    const run = plan(withPostIds(specs, known), { knownPosts: known });
    expect(run.rows.map((r) => r.verdict.changed)).toEqual([undefined, undefined]);
    expect(run.summary.changed).toBeUndefined();
    // The body it asks for is exactly the one that was sent, kept time included.
    expect(postBodyHash(run.rows[0]!.updateBody)).toBe(known.get('k1')!.bodyHash);
    expect(run.rows[1]!.updateBody!.scheduledAt).toBe(known.get('k2')!.scheduledAt);
  });

  it('when the content was edited, then the row is CHANGED with what to do, at its kept time', () => {
    const known = publishedAs(specs);
    const edited = withPostIds(specs, known);
    edited[0] = { ...edited[0], Content: 'A better text' };
    const run = plan(edited, { knownPosts: known });
    const row = run.rows[0]!;
    expect(row.verdict.changed).toBe(true);
    expect(row.verdict.status).toBe('READY');
    expect(row.verdict.messages.map((m) => m.message)).toContain(
      'Content or time differs from the post in Postato: press Reschedule changed rows to update it, or undo the edit.',
    );
    expect(row.updateBody).toMatchObject({ content: 'A better text', scheduledAt: known.get('k1')!.scheduledAt });
    expect(row.body).toBeUndefined();
    expect(run.rows[1]!.verdict.changed).toBeUndefined();
    expect(run.summary.changed).toBe(1);
  });

  it('when the Scheduled at time was edited, then the row is CHANGED and asks for the new time', () => {
    const known = publishedAs(specs);
    const edited = withPostIds(specs, known);
    edited[1] = { ...edited[1], 'Scheduled at': '2025-06-03 15:00' };
    const run = plan(edited, { knownPosts: known });
    const row = run.rows[1]!;
    expect(row.verdict.changed).toBe(true);
    const at = Date.parse(row.updateBody!.scheduledAt!);
    // 15:00 New York is 19:00Z; the row's jitter (at most 90 s) is added as at creation.
    expect(at - Date.parse('2025-06-03T19:00:00Z')).toBeGreaterThanOrEqual(0);
    expect(at - Date.parse('2025-06-03T19:00:00Z')).toBeLessThanOrEqual(90_000);
    expect(run.summary.changed).toBe(1);
  });

  it('when a sheet time was pushed one gap later by a neighbour at creation, then it is not mistaken for an edit', () => {
    const same = [tweet('k1', { 'Scheduled at': AT }), tweet('k2', { 'Scheduled at': AT })];
    const known = publishedAs(same);
    const run = plan(withPostIds(same, known), { knownPosts: known });
    expect(run.rows.map((r) => r.verdict.changed)).toEqual([undefined, undefined]);
  });

  it('when the post is known only from the sheet Post ID, then there is nothing to compare and it is not CHANGED', () => {
    const run = plan([tweet('k1', { 'Post ID': 'pst_sheet', Content: 'Edited', 'Scheduled at': AT })]);
    expect(run.rows[0]!.verdict.changed).toBeUndefined();
    expect(run.rows[0]!.updateBody).toBeDefined();
    expect(run.summary.changed).toBeUndefined();
  });

  it('when the edited post is already PUBLISHED, then it says the post cannot change instead of CHANGED', () => {
    const known = publishedAs(specs, 'PUBLISHED');
    const edited = withPostIds(specs, known);
    edited[0] = { ...edited[0], Content: 'Too late' };
    const run = plan(edited, { knownPosts: known });
    const row = run.rows[0]!;
    expect(row.verdict.changed).toBeUndefined();
    expect(row.updateBody).toBeUndefined();
    expect(row.verdict.status).toBe('WARNING');
    expect(row.verdict.messages.map((m) => m.message).join(' ')).toMatch(
      /PUBLISHED in Postato and can no longer change: .*new row/,
    );
  });

  it('when a time is edited into the past, then the row is INVALID with a clear error, not CHANGED', () => {
    const known = publishedAs(specs);
    const edited = withPostIds(specs, known);
    edited[1] = { ...edited[1], 'Scheduled at': '2025-06-01 09:00' };
    const run = plan(edited, { knownPosts: known, now: NOW });
    expect(run.rows[1]!.verdict.status).toBe('INVALID');
    expect(run.rows[1]!.verdict.changed).toBeUndefined();
    expect(run.rows[1]!.verdict.messages.map((m) => m.message).join(' ')).toMatch(
      /in the past: pick a future time to reschedule/,
    );
  });
});
