/**
 * Query shapes (src/ledger/query-shapes.ts): a hot query compiled once runs with each call's values, and a value that
 * was written into the builder instead of a placeholder is caught (the verification tests run with) rather than
 * silently reused for every later call. Real SQLite.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { QueryShapes } from '../../src/ledger/query-shapes';

interface Db {
  items: { id: string; n: number; note: string | null };
}

describe('query shapes', () => {
  let db: Kysely<Db>;
  beforeEach(async () => {
    db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
    await db.schema
      .createTable('items')
      .addColumn('id', 'text')
      .addColumn('n', 'integer')
      .addColumn('note', 'text')
      .execute();
    await db
      .insertInto('items')
      .values([
        { id: 'a', n: 1, note: null },
        { id: 'b', n: 2, note: 'x' },
      ])
      .execute();
  });
  afterEach(() => db.destroy());

  it('when one shape runs with different values, then each call reads and writes its own values', async () => {
    const shapes = new QueryShapes<Db>(false);
    const bump = (id: string, by: number, note: string | null) =>
      shapes.execute(db, 'bump', { id, by, note }, (d, p) =>
        d
          .updateTable('items')
          .set((eb) => ({ n: eb('n', '+', p<number>('by')), note: p('note') }))
          .where('id', '=', p<string>('id')),
      );
    expect(Number((await bump('a', 10, 'first')).numAffectedRows)).toBe(1);
    expect(Number((await bump('b', 5, null)).numAffectedRows)).toBe(1);
    expect(Number((await bump('zz', 5, null)).numAffectedRows)).toBe(0);
    const read = (id: string) =>
      shapes.execute(db, 'read', { id }, (d, p) => d.selectFrom('items').selectAll().where('id', '=', p<string>('id')));
    expect((await read('a')).rows).toEqual([{ id: 'a', n: 11, note: 'first' }]);
    expect((await read('b')).rows).toEqual([{ id: 'b', n: 7, note: null }]);
  });

  it('when a value is written into the builder instead of a placeholder, then the verified call fails instead of reusing it', async () => {
    const shapes = new QueryShapes<Db>(true);
    const readWrongly = (id: string) =>
      shapes.execute(db, 'read-wrong', { id }, (d) => d.selectFrom('items').selectAll().where('id', '=', id));
    expect((await readWrongly('a')).rows).toHaveLength(1);
    await expect(readWrongly('b')).rejects.toThrow(/a value is not a placeholder/);
  });

  it('when a call lacks a value of its shape, then it fails naming it', async () => {
    const shapes = new QueryShapes<Db>(false);
    await expect(
      shapes.execute(db, 'read', {}, (d, p) => d.selectFrom('items').selectAll().where('id', '=', p<string>('id'))),
    ).rejects.toThrow(/no value for id/);
  });
});
