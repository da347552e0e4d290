/**
 * Hot ledger queries compiled once per shape. kysely builds every query afresh (immutable nodes, then a compiler pass),
 * and on the dispatch path that cost more CPU than SQLite took to run the queries. Here a query is built once with
 * named placeholders where its values go, compiled, and then run with each call's values put in place of the
 * placeholders in the compiled parameter list: the same SQL and the same parameters kysely would have produced.
 *
 * A shape is everything that changes the SQL text (which optional columns are set, which conditions apply); the caller
 * names it. Every value that varies between calls must come through a placeholder: one written into the builder would
 * be compiled once and reused for every later call. Under NODE_ENV=test every call is also built the plain way and
 * compared, so a value that escaped its placeholder fails the tests instead of writing a stale value.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

/** Where each compiled parameter comes from: a named argument of the call, or a constant of the shape. */
type Slot = { arg: string } | { value: unknown };

interface Compiled {
  query: CompiledQuery;
  slots: Slot[];
}

const MARK = '\u0000query-shape-arg:';

/** Stands in for a call's value while the shape is built (typed as the value it stands for). */
export type Placeholder = <T>(name: string) => T;

/** Builds the query of a shape from a database handle and a placeholder for each varying value. */
export type ShapeBuilder<DB, R> = (db: Kysely<DB>, p: Placeholder) => Compilable<R>;

const placeholder: Placeholder = <T>(name: string) => `${MARK}${name}` as unknown as T;

/** Compiled shapes of one database (one dialect): create one per ledger. */
export class QueryShapes<DB> {
  private readonly shapes = new Map<string, Compiled>();

  constructor(private readonly verify = process.env.NODE_ENV === 'test') {}

  /** Runs the query of `shape` with `args` on `db` (the ledger's handle or a transaction of it). */
  async execute<R>(
    db: Kysely<DB>,
    shape: string,
    args: Record<string, unknown>,
    build: ShapeBuilder<DB, R>,
  ): Promise<QueryResult<R>> {
    let compiled = this.shapes.get(shape);
    if (!compiled) {
      compiled = compile(build(db, placeholder).compile());
      this.shapes.set(shape, compiled);
    }
    const parameters = compiled.slots.map((s) => ('arg' in s ? valueOf(args, s.arg, shape) : s.value));
    const query = { ...compiled.query, parameters } as CompiledQuery<R>;
    if (this.verify)
      assertSameAsBuilt(query, build(db, (name) => valueOf(args, name, shape) as never).compile(), shape);
    return db.executeQuery(query);
  }
}

function compile(query: CompiledQuery): Compiled {
  const slots = query.parameters.map((v): Slot =>
    typeof v === 'string' && v.startsWith(MARK) ? { arg: v.slice(MARK.length) } : { value: v },
  );
  return { query, slots };
}

function valueOf(args: Record<string, unknown>, name: string, shape: string): unknown {
  if (!(name in args)) throw new Error(`Query shape ${shape} has no value for ${name}.`);
  return args[name];
}

function assertSameAsBuilt(query: CompiledQuery, built: CompiledQuery, shape: string): void {
  const same =
    query.sql === built.sql &&
    query.parameters.length === built.parameters.length &&
    query.parameters.every((v, i) => Object.is(v, built.parameters[i]));
  if (!same)
    throw new Error(`Query shape ${shape} compiled differently from its plain build: a value is not a placeholder.`);
}
