/**
 * The Google APIs partial-response `fields` parameter for the Drive fake: parses selections such as
 * `id,name,videoMediaMetadata(durationMillis,width),capabilities/canDownload` and applies them to a resource.
 */

/** A parsed selection: each key is selected whole (true) or by its own sub-selection. */
export type FieldTree = Map<string, FieldTree | true>;

function merge(tree: FieldTree, path: string[], sub: FieldTree | true): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  const existing = tree.get(head);
  if (existing === true) return; // already selected whole
  if (rest.length === 0) {
    if (sub === true || existing === undefined) tree.set(head, sub);
    else for (const [k, v] of sub) merge(existing, [k], v);
    return;
  }
  const next: FieldTree = existing ?? new Map();
  tree.set(head, next);
  merge(next, rest, sub);
}

/** Parses a `fields` value; throws an Error naming the problem when it is malformed. */
export function parseFields(text: string): FieldTree {
  let i = 0;
  const parseList = (closing: boolean): FieldTree => {
    const tree: FieldTree = new Map();
    for (;;) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_/*]/.test(text[i] as string)) i += 1;
      const name = text.slice(start, i).trim();
      if (name === '' || name.split('/').some((p) => p === '')) throw new Error(`Invalid field selection ${text}`);
      let sub: FieldTree | true = true;
      if (text[i] === '(') {
        i += 1;
        sub = parseList(true);
        if (text[i] !== ')') throw new Error(`Invalid field selection ${text}`);
        i += 1;
      }
      merge(tree, name.split('/'), sub);
      while (text[i] === ' ') i += 1;
      if (text[i] === ',') {
        i += 1;
        while (text[i] === ' ') i += 1;
        continue;
      }
      if (closing ? text[i] === ')' : i >= text.length) return tree;
      throw new Error(`Invalid field selection ${text}`);
    }
  };
  return parseList(false);
}

/** The top-level names a selection uses (to refuse unknown ones as Drive does). */
export function topLevelFields(tree: FieldTree): string[] {
  return [...tree.keys()];
}

/** Keeps only the selected parts of `value`; `*` selects everything at its level. */
export function applyFields(value: Record<string, unknown>, tree: FieldTree): Record<string, unknown> {
  if (tree.has('*')) return value;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of tree) {
    const v = value[key];
    if (v === undefined) continue;
    if (sub === true || v === null || typeof v !== 'object' || Array.isArray(v)) out[key] = v;
    else out[key] = applyFields(v as Record<string, unknown>, sub);
  }
  return out;
}
