/**
 * Parses JSON typed into a cell with bounds on its size and nesting depth, checked on the text before JSON.parse, so
 * a cell that is valid JSON but too deep for the service to serialise again (canonical JSON recurses) is refused in
 * the dry run instead of failing every publish attempt.
 */

/** Bounds of a JSON cell. */
export interface JsonBounds {
  /** Most characters of the text. */
  maxChars: number;
  /** Most nested objects and arrays (`{"a":[1]}` has depth 2). */
  maxDepth: number;
}

/** Bounds of the Options cell: Postato's options are a small object of a few levels (e.g. a poll). */
export const OPTIONS_JSON_BOUNDS: JsonBounds = { maxChars: 10_000, maxDepth: 8 };

/** The parsed value, or why not (the caller words it for its cell). */
export type BoundedJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: 'too-deep'; maxDepth: number }
  | { ok: false; reason: 'too-long'; length: number; maxChars: number }
  | { ok: false; reason: 'not-json'; detail: string };

/** Deepest nesting of objects and arrays in `text`, counted outside strings; stops counting past `limit`. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Parses `text` when it is within `bounds` and valid JSON (depth is reported first: it is the surprising one). */
export function parseBoundedJson(text: string, bounds: JsonBounds): BoundedJsonResult {
  if (jsonDepth(text, bounds.maxDepth) > bounds.maxDepth)
    return { ok: false, reason: 'too-deep', maxDepth: bounds.maxDepth };
  if (text.length > bounds.maxChars) {
    return { ok: false, reason: 'too-long', length: text.length, maxChars: bounds.maxChars };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, reason: 'not-json', detail: (e as Error).message };
  }
}
