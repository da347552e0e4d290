/** The one canonical JSON form of the service: what is hashed for idempotency keys and the exact bytes sent to Postato. */

/** JSON with object keys sorted recursively (by UTF-16 code units) and no whitespace: the exact bytes sent to Postato. */
export function canonicalJson(value: unknown): string {
  const out = write(value);
  if (out === undefined) throw new TypeError('canonicalJson: the value has no JSON representation.');
  return out;
}

function write(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return write((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
  if (value !== null && typeof value === 'object') {
    // Built by hand: an object literal would reorder integer-like keys ("10" before "9") whatever we sort.
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const v = write((value as Record<string, unknown>)[key]);
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (typeof value === 'bigint') throw new TypeError('canonicalJson: BigInt cannot be sent as JSON.');
  return JSON.stringify(value) as string | undefined;
}
