/**
 * The stagger planner: places posts in time so that one account's posts are at least a minimum gap apart and no two
 * posts (of any account) share a second. Pure and deterministic: same input, same output, byte for byte.
 * Rows with a fixed time (already posted, or "now") are never moved; explicit times are placed before auto-slotted
 * rows, in time order, so editing or adding a row moves nobody placed earlier.
 */

/** A post to place. `desiredMs` absent means auto-slot. */
export interface StaggerItem {
  id: number;
  /** Tie-breaker for equal times (the row key), so sort order never depends on input order. */
  sortKey: string;
  accountId: string;
  desiredMs?: number;
  /** This row's jitter in ms (from its key). */
  jitterMs: number;
}

/** A post that already holds its time and only constrains the others. */
export interface FixedSlot {
  accountId: string;
  ms: number;
  /** The item or row that holds the slot, for reports. */
  owner: number;
  /** Whether its second counts as taken across accounts (false for "publish now" rows). */
  holdsSecond: boolean;
}

export interface StaggerInput {
  items: StaggerItem[];
  fixed: FixedSlot[];
  startMs: number;
  gapMs: number;
}

/** Where an item landed and why. */
export interface Placement {
  ms: number;
  /** The account gap pushed this row later than it asked for. */
  moved: boolean;
  /** The owner (item id or row) of the slot that pushed it last. */
  pushedBy?: number;
  /** Seconds added only to avoid sharing a second with another account's post. */
  bumpedSeconds: number;
}

interface Slot {
  ms: number;
  owner: number;
}

class AccountTimeline {
  readonly slots: Slot[] = [];
  lastExplicit = -Infinity;
  lastExplicitOwner: number | undefined;
  lastAuto = -Infinity;

  /** The latest slot strictly within `gap` of `t`, if any. */
  conflict(t: number, gap: number): Slot | undefined {
    if (gap <= 0) return undefined;
    // First slot with ms > t - gap.
    let lo = 0;
    let hi = this.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.slots[mid]!.ms > t - gap) hi = mid;
      else lo = mid + 1;
    }
    let found: Slot | undefined;
    for (let i = lo; i < this.slots.length && this.slots[i]!.ms < t + gap; i++) found = this.slots[i];
    return found;
  }

  insert(slot: Slot): void {
    let lo = 0;
    let hi = this.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.slots[mid]!.ms <= slot.ms) lo = mid + 1;
      else hi = mid;
    }
    this.slots.splice(lo, 0, slot);
  }
}

const floorSecond = (ms: number) => Math.floor(ms / 1000) * 1000;
/**
 * Rounds up: a post pushed past a neighbour must land a full gap after it. A neighbour can hold a time with a
 * fraction of a second (a "now" row, a time typed with milliseconds); rounding down would put the pushed post inside
 * that gap again, and the search would never end.
 */
const ceilSecond = (ms: number) => Math.ceil(ms / 1000) * 1000;

/** Places every item; returns placements by item id. */
export function planStagger(input: StaggerInput): Map<number, Placement> {
  const { gapMs } = input;
  const timelines = new Map<string, AccountTimeline>();
  const timeline = (account: string) => {
    let t = timelines.get(account);
    if (!t) timelines.set(account, (t = new AccountTimeline()));
    return t;
  };
  const usedSeconds = new Set<number>();
  for (const f of input.fixed) {
    timeline(f.accountId).insert({ ms: f.ms, owner: f.owner });
    if (f.holdsSecond) usedSeconds.add(Math.floor(f.ms / 1000));
  }

  const place = (item: StaggerItem, start: number): Placement => {
    const line = timeline(item.accountId);
    let t = floorSecond(start);
    let moved = false;
    let pushedBy: number | undefined;
    let bumpedSeconds = 0;
    for (;;) {
      const c = line.conflict(t, gapMs);
      if (c) {
        t = ceilSecond(c.ms + gapMs + item.jitterMs);
        moved = true;
        pushedBy = c.owner;
        continue;
      }
      if (usedSeconds.has(t / 1000)) {
        t += 1000;
        bumpedSeconds++;
        continue;
      }
      break;
    }
    line.insert({ ms: t, owner: item.id });
    usedSeconds.add(t / 1000);
    return { ms: t, moved, pushedBy, bumpedSeconds: moved ? 0 : bumpedSeconds };
  };

  const out = new Map<number, Placement>();
  const explicit = input.items.filter((i) => i.desiredMs !== undefined);
  explicit.sort((a, b) => a.desiredMs! - b.desiredMs! || cmp(a.sortKey, b.sortKey) || a.id - b.id);
  for (const item of explicit) {
    const line = timeline(item.accountId);
    const desired = floorSecond(item.desiredMs! + item.jitterMs);
    // Shortcut over a run of earlier explicit rows of this account (their placements only grow).
    let start = desired;
    let shortcut: number | undefined;
    if (gapMs > 0 && line.lastExplicit > desired - gapMs) {
      start = ceilSecond(line.lastExplicit + gapMs + item.jitterMs);
      shortcut = line.lastExplicitOwner;
    }
    const p = place(item, start);
    if (start !== desired) {
      p.moved = true;
      p.bumpedSeconds = 0;
      if (p.pushedBy === undefined) p.pushedBy = shortcut;
    }
    line.lastExplicit = p.ms;
    line.lastExplicitOwner = item.id;
    out.set(item.id, p);
  }

  // Auto-slotted rows keep their row order and fill each account's timeline from the start time.
  for (const item of input.items) {
    if (item.desiredMs !== undefined) continue;
    const line = timeline(item.accountId);
    const base = Math.max(input.startMs, line.lastAuto + gapMs);
    const p = place(item, base + item.jitterMs);
    p.moved = false;
    line.lastAuto = p.ms;
    out.set(item.id, p);
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
