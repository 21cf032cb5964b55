import { createHash, createHmac } from 'node:crypto';
import knex, { type Knex } from 'knex';
import { parseDuration, type Subject } from '../../../domain';
import {
  ConnectorFailure,
  RECORD_TABLE,
  requireSecret,
  type Answer,
  type Connector,
  type ConnectorContext,
  type ConnectorDefinition,
  type ConnectorRecord,
  type DeletionStep,
  type FoundPage,
  type PageProgress,
  type RecordPages,
  type Resumable,
} from '../connector';
import { databaseFailure } from './failure';
import { sqlConnectorOptions, type MaskRule, type SqlConnectorOptions, type SqlTable } from './options';

/**
 * First-party databases (PostgreSQL, MySQL/MariaDB), configured rather than coded: every table
 * the configuration names is read page by page (keyset pagination on its key, so an attempt cut
 * short resumes after its last page) and erased in batches, each batch a transaction, children
 * before parents. Queries are built by knex: identifiers quoted, every value a bound parameter.
 */

/** A keyed hash is 64 hex digits: a value already of that shape was masked by an earlier attempt. */
const HASHED = /^[0-9a-f]{64}$/;

type Key = string | number;

async function* flat(pages: RecordPages): AsyncGenerator<ConnectorRecord> {
  for await (const page of pages) yield* page;
}

interface Batch {
  table: SqlTable;
  keys: Key[];
}

class SqlConnector implements Connector {
  private readonly timeoutMs: number;
  /**
   * knex's own limit on a statement, a safety net behind the server's (statement_timeout and
   * lock_timeout; innodb_lock_wait_timeout and max_statement_time or max_execution_time): a second
   * later, so the server's codes show first.
   */
  private readonly knexTimeoutMs: number;
  /** Tables in the order they are read and erased: children before parents. */
  private readonly order: SqlTable[];

  constructor(
    private readonly options: SqlConnectorOptions,
    private readonly context: ConnectorContext,
  ) {
    this.timeoutMs = parseDuration(options.statement_timeout);
    this.knexTimeoutMs = (Math.ceil(this.timeoutMs / 1000) + 1) * 1000;
    this.order = [...options.tables].reverse();
  }

  private connect(purpose: 'read' | 'write'): { db: Knex; where: string } {
    const variable =
      purpose === 'read' ? (this.options.read_url_env ?? this.options.url_env) : this.options.url_env;
    const url = requireSecret(this.context.secrets, variable);
    let where: string;
    try {
      const parsed = new URL(url);
      where = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
    } catch {
      throw new ConnectorFailure(
        { kind: 'database', reason: 'other' },
        `${variable} is not a connection URL`,
      );
    }
    const timeoutMs = this.timeoutMs;
    const connection =
      this.options.dialect === 'postgres'
        ? {
            connectionString: url,
            statement_timeout: timeoutMs,
            lock_timeout: timeoutMs,
            connectionTimeoutMillis: timeoutMs,
            application_name: 'lethe',
          }
        : {
            uri: url,
            connectTimeout: timeoutMs,
            supportBigNumbers: true,
            bigNumberStrings: true,
            timezone: 'Z',
          };
    const db = knex({
      client: this.options.dialect === 'postgres' ? 'pg' : 'mysql2',
      connection,
      // One connection works; a second lets a statement past its time be cancelled.
      pool: {
        min: 0,
        max: 2,
        ...(this.options.dialect === 'mysql'
          ? {
              afterCreate: (conn: MysqlConnection, done: (e: unknown, c: unknown) => void) =>
                boundMysqlSession(conn, timeoutMs).then(
                  () => done(null, conn),
                  (error: unknown) => done(error, conn),
                ),
            }
          : {}),
      },
      acquireConnectionTimeout: timeoutMs,
      // Failures reach the operator through the taxonomy and the call log, not the console.
      log: {
        warn: () => undefined,
        error: () => undefined,
        deprecate: () => undefined,
        debug: () => undefined,
      },
    });
    return { db, where };
  }

  /** Runs one statement, for the call log: what, on which table, how long, and its code if it failed. */
  private async statement<T>(
    where: string,
    what: { table?: string; statement: string },
    run: () => Promise<T>,
  ): Promise<T> {
    if (this.context.signal?.aborted) throw this.context.signal.reason;
    const started = Date.now();
    const url = what.table ? `${where}?table=${what.table}` : where;
    try {
      const result = await run();
      this.context.onCall({
        method: what.statement,
        url,
        status: null,
        body: undefined,
        error: null,
        durationMs: Date.now() - started,
      });
      return result;
    } catch (error) {
      const failure = databaseFailure(error, this.options.dialect, what);
      this.context.onCall({
        method: what.statement,
        url,
        status: null,
        body: undefined,
        error: failure.message,
        durationMs: Date.now() - started,
      });
      throw failure;
    }
  }

  private tableNamed(name: string): SqlTable {
    const found = this.options.tables.find((t) => t.name === name);
    if (!found) throw new ConnectorFailure({ kind: 'unknown' }, `table ${name} is not in the configuration`);
    return found;
  }

  /**
   * The table's rows that belong to the subject, as a query: by an identifier, or by a column
   * that refers to the rows of a table found before, through subqueries (no keys held in memory).
   * Undefined when the subject lacks the identifier the chain starts from.
   */
  private matching(db: Knex, t: SqlTable, subject: Subject): Knex.QueryBuilder | undefined {
    const [column, from] = Object.entries(t.match)[0] as [string, string];
    if (from.startsWith('subject.')) {
      const value = subject[from.slice('subject.'.length) as keyof Subject];
      if (typeof value !== 'string' || value === '') return undefined;
      return db(t.name).where(`${t.name}.${column}`, value);
    }
    const cut = from.lastIndexOf('.');
    const parent = this.tableNamed(from.slice(0, cut));
    const parents = this.matching(db, parent, subject);
    if (!parents) return undefined;
    // Every column with its table: in a subquery, a column its table lost (dropped after start-up)
    // would otherwise be read as the outer table's, and match other people's rows.
    return db(t.name).whereIn(
      `${t.name}.${column}`,
      parents
        .clone()
        .clearSelect()
        .select(`${parent.name}.${from.slice(cut + 1)}`),
    );
  }

  private requireSomeIdentifier(subject: Subject, db: Knex): void {
    if (!this.options.tables.some((t) => this.matching(db, t, subject)))
      throw new ConnectorFailure(
        { kind: 'missing_identifier' },
        `the subject has none of the identifiers this database is searched by (${this.options.tables
          .flatMap((t) => Object.values(t.match).filter((from) => from.startsWith('subject.')))
          .join(', ')})`,
      );
  }

  private columnsOf(t: SqlTable): string[] | undefined {
    return t.columns ? [...new Set([t.key, ...t.columns])] : undefined;
  }

  /** One page of a table: the rows after `after`, in key order. */
  private async page(
    db: Knex,
    where: string,
    t: SqlTable,
    subject: Subject,
    after: Key | null,
    columns: string[] | undefined,
    size: number,
  ): Promise<ConnectorRecord[]> {
    const query = this.matching(db, t, subject);
    if (!query) return [];
    const cols = columns ?? this.columnsOf(t);
    query.clearSelect().select(cols ?? '*');
    if (after !== null) query.andWhere(t.key, '>', after);
    query.orderBy(t.key).limit(size).timeout(this.knexTimeoutMs, { cancel: true });
    return this.statement(
      where,
      { table: t.name, statement: 'SELECT' },
      () => query as Promise<ConnectorRecord[]>,
    );
  }

  async find(subject: Subject, progress?: PageProgress): Promise<Answer<RecordPages>> {
    return { done: true, value: this.pages(subject, 'read', progress) };
  }

  /**
   * Every table's rows for the subject, children first (the order they are erased in), a page at a
   * time; pages an earlier attempt read come from its notes. Beyond max_rows, an Error.
   */
  private async *pages(subject: Subject, purpose: 'read' | 'write', progress?: PageProgress): RecordPages {
    const { db, where } = this.connect(purpose);
    try {
      this.requireSomeIdentifier(subject, db);
      let at: { table: number; after: Key | null } | null = { table: 0, after: null };
      let rows = 0;
      const counted = (records: ConnectorRecord[], table: string) => {
        rows += records.length;
        if (rows > this.options.max_rows)
          throw new ConnectorFailure(
            { kind: 'unknown' },
            `table ${table}: the subject has more than ${this.options.max_rows} rows in this database (max_rows)`,
          );
      };
      for await (const earlier of progress?.earlier() ?? []) {
        counted(earlier.records, String(earlier.records[0]?.[RECORD_TABLE] ?? ''));
        yield earlier.records;
        at =
          earlier.next === null
            ? null
            : { table: Number(earlier.next.table), after: earlier.next.after ?? null };
      }
      while (at !== null) {
        const t = this.order[at.table] as SqlTable;
        const found = await this.page(db, where, t, subject, at.after, undefined, this.options.page_size);
        // The table last: a column of the row named like it must not redirect the erasure.
        const records = found.map((row) => ({ ...row, [RECORD_TABLE]: t.name }));
        const last = found.at(-1)?.[t.key] as Key | undefined;
        const next: FoundPage['next'] =
          found.length === this.options.page_size && last !== undefined
            ? { table: at.table, after: last }
            : at.table + 1 < this.order.length
              ? { table: at.table + 1 }
              : null;
        counted(records, t.name);
        await progress?.note({ records, next });
        yield records;
        at =
          next === null
            ? null
            : { table: Number(next.table), after: (next.after as Key | undefined) ?? null };
      }
    } finally {
      await db.destroy();
    }
  }

  /** Records grouped into batches of one table, in the order they come (children first). */
  private async *batches(records: AsyncIterable<ConnectorRecord>): AsyncGenerator<Batch> {
    let current: Batch | undefined;
    for await (const record of records) {
      const name = record[RECORD_TABLE];
      if (typeof name !== 'string')
        throw new ConnectorFailure({ kind: 'unknown' }, 'a record found earlier names no table');
      const table = this.tableNamed(name);
      const key = record[table.key];
      if (typeof key !== 'string' && typeof key !== 'number')
        throw new ConnectorFailure(
          { kind: 'unknown' },
          `table ${name}: a record found earlier has no ${table.key}`,
        );
      if (current && (current.table !== table || current.keys.length >= this.options.batch_size)) {
        yield current;
        current = undefined;
      }
      current ??= { table, keys: [] };
      current.keys.push(key);
    }
    if (current) yield current;
  }

  private hashKey(): string {
    return requireSecret(this.context.secrets, this.options.hash_key_env ?? '');
  }

  private maskValue(rule: MaskRule, value: unknown): unknown {
    if (rule === null) return null;
    if (rule === 'hash') {
      if (value === null || value === undefined) return null;
      const text = value instanceof Date ? value.toISOString() : String(value);
      return HASHED.test(text) ? text : createHmac('sha256', this.hashKey()).update(text).digest('hex');
    }
    return rule.value;
  }

  /**
   * Erases one batch in one transaction. Deleting a row twice deletes nothing; masking is a fixed
   * point (null, a fixed value, or a hash left as it is), so a batch whose commit an attempt did
   * not live to note is simply done again.
   */
  private async erase(db: Knex, where: string, batch: Batch): Promise<void> {
    const { table, keys } = batch;
    const timeout = { cancel: true };
    if (table.erase === 'delete') {
      await this.statement(where, { table: table.name, statement: 'DELETE' }, () =>
        db.transaction(async (trx) => {
          await trx(table.name).whereIn(table.key, keys).delete().timeout(this.knexTimeoutMs, timeout);
        }),
      );
      return;
    }
    const rules = Object.entries(table.erase.mask);
    const hashed = rules.filter(([, rule]) => rule === 'hash').map(([column]) => column);
    await this.statement(where, { table: table.name, statement: 'UPDATE' }, () =>
      db.transaction(async (trx) => {
        if (hashed.length === 0) {
          const values = Object.fromEntries(
            rules.map(([column, rule]) => [column, this.maskValue(rule, null)]),
          );
          await trx(table.name).whereIn(table.key, keys).update(values).timeout(this.knexTimeoutMs, timeout);
          return;
        }
        // A keyed hash is of each row's own value: read under lock, then written row by row.
        const rows = (await trx(table.name)
          .select([table.key, ...hashed])
          .whereIn(table.key, keys)
          .forUpdate()
          .timeout(this.knexTimeoutMs, timeout)) as ConnectorRecord[];
        for (const row of rows) {
          const values = Object.fromEntries(
            rules.map(([column, rule]) => [column, this.maskValue(rule, row[column])]),
          );
          await trx(table.name)
            .where(table.key, row[table.key] as Key)
            .update(values)
            .timeout(this.knexTimeoutMs, timeout);
        }
      }),
    );
  }

  async deleteRecords(
    subject: Subject,
    records: AsyncIterable<ConnectorRecord> | undefined,
    progress?: Resumable<DeletionStep>,
  ): Promise<Answer<number>> {
    // A batch is known by a digest of its table and keys: the journal holds no identifiers.
    const idOf = (batch: Batch) =>
      createHash('sha256')
        .update(JSON.stringify([batch.table.name, batch.keys]))
        .digest('base64url');
    const done = new Set<string>();
    for (const step of progress?.earlier ?? [])
      if (typeof step === 'object' && step && 'deleted' in step) done.add(step.deleted);
    const { db, where } = this.connect('write');
    let erased = 0;
    try {
      // Without an access phase (skipped, stopped), the connector reads the rows itself, as it erases them.
      for await (const batch of this.batches(records ?? flat(this.pages(subject, 'write')))) {
        const id = idOf(batch);
        if (!done.has(id)) {
          await progress?.note({ sending: id });
          await this.erase(db, where, batch);
          await progress?.note({ deleted: id });
          done.add(id);
        }
        erased += batch.keys.length;
      }
    } finally {
      await db.destroy();
    }
    return { done: true, value: erased };
  }

  /** Full deletion: every row of the subject, read and erased table by table, children first. */
  async deleteSubject(subject: Subject): Promise<Answer<void>> {
    await this.deleteRecords(subject, undefined);
    return { done: true, value: undefined };
  }

  /** Every table and column the configuration names exists: one line for each that does not. */
  async verify(): Promise<string[]> {
    const named = new Map<string, Set<string>>();
    for (const t of this.options.tables) {
      const columns = new Set([t.key, ...Object.keys(t.match), ...(t.columns ?? [])]);
      if (t.erase !== 'delete') for (const column of Object.keys(t.erase.mask)) columns.add(column);
      named.set(t.name, columns);
      // The column a child refers to is one of its parent's.
      for (const from of Object.values(t.match)) {
        const cut = from.lastIndexOf('.');
        if (!from.startsWith('subject.')) named.get(from.slice(0, cut))?.add(from.slice(cut + 1));
      }
    }
    const { db, where } = this.connect('write');
    const problems: string[] = [];
    try {
      for (const [index, t] of this.options.tables.entries()) {
        const [schema, name] = t.name.includes('.')
          ? (t.name.split('.') as [string, string])
          : [undefined, t.name];
        const query = db('information_schema.columns')
          .select({ column: 'column_name' })
          .where('table_name', name)
          .andWhere(
            'table_schema',
            schema ?? db.raw(this.options.dialect === 'postgres' ? 'current_schema()' : 'database()'),
          )
          .timeout(this.knexTimeoutMs, { cancel: true });
        const rows = (await this.statement(where, { table: t.name, statement: 'SELECT' }, () => query)) as {
          column: string;
        }[];
        const columns = new Set(rows.map((row) => row.column));
        if (columns.size === 0) {
          problems.push(
            `tables[${index}].name: no table "${t.name}" in the database (or none its role may see)`,
          );
          continue;
        }
        for (const column of named.get(t.name) ?? [])
          if (!columns.has(column)) problems.push(`tables[${index}] (${t.name}): no column "${column}"`);
      }
    } finally {
      await db.destroy();
    }
    return problems;
  }
}

export const sqlConnector: ConnectorDefinition<SqlConnectorOptions> = {
  optionsSchema: sqlConnectorOptions,
  create(options, context) {
    return new SqlConnector(options, context);
  },
};

interface MysqlConnection {
  query(sql: string, values: unknown[], done: (error: { errno?: number } | null) => void): void;
}

/** MySQL and MariaDB name their own variables for it; an unknown one is errno 1193. */
const UNKNOWN_SYSTEM_VARIABLE = 1193;

/**
 * The server itself ends a statement or a lock wait past the timeout, as PostgreSQL's
 * statement_timeout does: MariaDB's max_statement_time (seconds), or MySQL's max_execution_time
 * (milliseconds, reads only); knex's own timeout is a client-side backstop.
 */
async function boundMysqlSession(conn: MysqlConnection, timeoutMs: number): Promise<void> {
  const run = (sql: string, value: number) =>
    new Promise<void>((resolve, reject) =>
      conn.query(sql, [value], (error) => (error ? reject(error) : resolve())),
    );
  const lockWaitSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  await run('SET SESSION innodb_lock_wait_timeout = ?', lockWaitSeconds);
  // Half a second past the lock wait, so that a statement waiting on a lock is told so.
  const statementSeconds = lockWaitSeconds + 0.5;
  try {
    await run('SET SESSION max_statement_time = ?', statementSeconds);
  } catch (error) {
    if ((error as { errno?: number }).errno !== UNKNOWN_SYSTEM_VARIABLE) throw error;
    await run('SET SESSION max_execution_time = ?', statementSeconds * 1000);
  }
}
