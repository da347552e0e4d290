/**
 * Which of a tenant's next sends decide when it finishes, under the pacer's sliding-log rule (at most L' sends in any
 * span). The embedded dispatcher serves those first, so tenants publishing at once each finish close to their own
 * physical minimum instead of all finishing late together.
 */

/**
 * How many of a tenant's next sends are critical: each of them, if started later, makes the tenant's last send later.
 *
 * Number the tenant's sends in order: the `sendsInSpan` (s) still inside the pacer's span (calls in flight included)
 * are 1..s, the `remaining` (R) ones to come are s+1..s+R. The sliding log lets send q go no earlier than one span
 * after send q−L', and sends 1..L' are bound by nothing older. So the last send P = s+R is chained to P−L', P−2L', …
 * down to p0 = ((P−1) mod L') + 1 ≤ L', and it happens no earlier than send p0 plus (P−p0)/L' spans. When p0 > s, the
 * sends s+1..p0 may all go now and each one started late delays the finish: c = p0 − s. The sends after p0 in this
 * span have about a span of slack. When p0 ≤ s, the chain hangs on a send already made: nothing now is critical.
 * With R ≤ L' − s, p0 = s + R: all R are critical.
 *
 * Examples with L' = 117: s = 0, R = 300 → 66; after those 66, s = 66, R = 234 → 0; once the span has passed,
 * s = 0, R = 234 → 117.
 */
export function criticalSends(remaining: number, sendsInSpan: number, maxPerSpan: number): number {
  if (remaining <= 0) return 0;
  if (!Number.isFinite(maxPerSpan)) return remaining;
  const s = Math.max(0, sendsInSpan);
  return Math.max(0, chainAnchor(s, remaining, maxPerSpan) - s);
}

/** p0: the position in the span (1-based, counting the s sends made) of the send the last send's chain hangs on. */
function chainAnchor(sendsInSpan: number, remaining: number, maxPerSpan: number): number {
  return ((sendsInSpan + remaining - 1) % maxPerSpan) + 1;
}

/**
 * When a tenant with no critical send now (see criticalSends) needs the sends its span still allows: the chain of its
 * last send hangs on a send already made, p0, and the next link of that chain goes one span after p0, so every free
 * send of the span before it is due by then. `sentAtAsc` are the stamps of the sends in the span, ascending; calls in
 * flight count as made now. Returns `now` when a send is critical now, Infinity when nothing is left.
 */
export function slackDeadline(
  remaining: number,
  sentAtAsc: readonly number[],
  inFlight: number,
  rule: { max: number; spanMs: number },
  now: number,
): number {
  if (remaining <= 0) return Infinity;
  const s = sentAtAsc.length + inFlight;
  const anchor = chainAnchor(s, remaining, rule.max);
  if (anchor > s) return now;
  const madeAt = anchor <= sentAtAsc.length ? sentAtAsc[anchor - 1]! : now;
  return madeAt + rule.spanMs;
}
