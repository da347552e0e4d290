/**
 * Finds secrets in captured text: log lines, response bodies, database file bytes. A secret counts as leaked when it
 * appears whole, or when a long enough piece of it does (a truncated key is still a leak).
 */

export interface SecretLeak {
  /** Index of the text in which the secret was found. */
  textIndex: number;
  /** A short, safe description of the secret (its first 6 characters), never the secret itself. */
  secret: string;
  /** Where in the text it starts. */
  at: number;
}

/** The first occurrence of each secret (whole, base64, or any 24-character piece) in each of `texts`. */
export function findSecretLeaks(
  texts: readonly (string | Buffer)[],
  secrets: readonly string[],
  minPiece = 24,
): SecretLeak[] {
  const leaks: SecretLeak[] = [];
  texts.forEach((raw, textIndex) => {
    const text = Buffer.isBuffer(raw) ? raw.toString('latin1') : raw;
    for (const secret of secrets) {
      const pieces = new Set<string>();
      // Plain text and base64 (a key "hidden" in base64 is not encrypted); pieces catch truncated copies.
      for (const form of [secret, Buffer.from(secret).toString('base64')]) {
        pieces.add(form);
        for (let i = 0; i + minPiece <= form.length; i += Math.max(1, Math.floor(minPiece / 2)))
          pieces.add(form.slice(i, i + minPiece));
      }
      for (const piece of pieces) {
        const at = text.indexOf(piece);
        if (at >= 0) {
          leaks.push({ textIndex, secret: `${secret.slice(0, 6)}…`, at });
          break;
        }
      }
    }
  });
  return leaks;
}
