/**
 * The ledger is sealed: every query lives in src/ledger/. This scans the product code (src/) and fails on any
 * database access outside that folder: a kysely, pg or better-sqlite3 import, a query-builder call, raw SQL, a
 * ledger-internal module imported from elsewhere, or the tests-only inspection handle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');
const LEDGER = path.join(SRC, 'ledger');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** What counts as database access, with the reason it belongs in the ledger. */
const FORBIDDEN: Array<[RegExp, string]> = [
  [/from ['"](kysely|pg|better-sqlite3)['"]/, 'imports a database driver or query builder'],
  [/\.(selectFrom|updateTable|insertInto|deleteFrom|replaceInto)\(/, 'builds a query'],
  [/\bsql`/, 'writes raw SQL'],
  [/\.(prepare|exec)\(\s*['"`]\s*(SELECT|INSERT|UPDATE|DELETE|CREATE)/i, 'runs raw SQL'],
  [
    /from ['"][./]*\/?ledger\/(ledger-db|ledger-migrations|write-back-queries|webhook-queries|ops-queries|instance-registry)['"]/,
    'imports a ledger-internal module',
  ],
  [/\binspectLedgerDb\b/, 'uses the tests-only query handle'],
];

describe('the sealed ledger', () => {
  it('when any file under src/ outside src/ledger/ touches the database, then this names it', () => {
    const offences: string[] = [];
    for (const file of sourceFiles(SRC)) {
      if (file.startsWith(LEDGER + path.sep)) continue;
      const text = readFileSync(file, 'utf8');
      for (const [pattern, why] of FORBIDDEN) {
        if (pattern.test(text)) offences.push(`${path.relative(SRC, file)} ${why}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('when the scan runs, then it sees the ledger folder and the files that use it (the patterns are live)', () => {
    const ledgerFiles = sourceFiles(LEDGER).map((f) => readFileSync(f, 'utf8'));
    expect(ledgerFiles.some((t) => FORBIDDEN[0]![0].test(t))).toBe(true);
    expect(ledgerFiles.some((t) => FORBIDDEN[1]![0].test(t))).toBe(true);
    expect(ledgerFiles.some((t) => FORBIDDEN[2]![0].test(t))).toBe(true);
    const users = sourceFiles(SRC).filter(
      (f) => !f.startsWith(LEDGER) && /ledger\/run-ledger/.test(readFileSync(f, 'utf8')),
    );
    expect(users.length).toBeGreaterThan(5);
  });
});
