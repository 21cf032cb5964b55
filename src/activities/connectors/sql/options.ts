import { z } from 'zod';
import { durationSchema, envVariableSchema as envName, SUBJECT_IDENTIFIERS } from '../../../domain';

/**
 * The sql connector's configuration: a database (by dialect and a connection URL named by
 * environment variable) and its tables. A table is found by an identity column matched to a
 * subject identifier (`email: subject.email`), or by a reference to a table listed before it
 * (`user_id: users.id`), to any depth. Names are checked here to be plain identifiers; the query
 * builder quotes them all the same, and every value is a bound parameter.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const identifier = z
  .string()
  .regex(IDENTIFIER, 'must be an SQL identifier: letters, digits and "_", not starting with a digit');
/** A table, optionally in a schema: `users`, `app.users`. */
const tableName = z
  .string()
  .regex(
    /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/,
    'must be an SQL identifier (letters, digits and "_", not starting with a digit), optionally schema.table',
  );

/** Where a table's matching column takes its values from. */
const source = z
  .string()
  .regex(
    new RegExp(
      `^(subject\\.(${SUBJECT_IDENTIFIERS.join('|')})|(?!subject\\.)[A-Za-z_][A-Za-z0-9_.]*\\.[A-Za-z_][A-Za-z0-9_]*)$`,
    ),
    `must be subject.<${SUBJECT_IDENTIFIERS.join('|')}> or <table>.<column> of a table listed before`,
  );

/** How a masked column is erased: null, a fixed value, or a keyed hash of its value (joins keep working). */
const mask = z.union([
  z.null(),
  z.literal('hash'),
  z.object({ value: z.union([z.string(), z.number(), z.boolean()]) }).strict(),
]);

const table = z
  .object({
    name: tableName,
    /** The column that names a row (a primary key): pages are read and rows erased by it. */
    key: identifier.default('id'),
    match: z
      .record(identifier, source)
      .refine((entries) => Object.keys(entries).length === 1, 'must name exactly one column'),
    /** The columns read for access; the key is always read. Default: every column. */
    columns: z.array(identifier).min(1).optional(),
    erase: z
      .union([
        z.literal('delete'),
        z
          .object({
            mask: z
              .record(identifier, mask)
              .refine((entries) => Object.keys(entries).length > 0, 'must name a column'),
          })
          .strict(),
      ])
      .default('delete'),
  })
  .strict();

export type SqlTable = z.infer<typeof table>;
export type MaskRule = z.infer<typeof mask>;

export const sqlConnectorOptions = z
  .object({
    dialect: z.enum(['postgres', 'mysql']),
    /** The connection URL (user, password, host, database), by environment variable. */
    url_env: envName,
    /** A second connection for the access phase, e.g. with a read-only role. Default: url_env. */
    read_url_env: envName.optional(),
    /** The key of the keyed hash masks use (HMAC-SHA256): required when a mask says `hash`. */
    hash_key_env: envName.optional(),
    /** Every statement, and every wait for a lock, gives up after this long. */
    statement_timeout: durationSchema.default('30s'),
    /** More rows than this for one subject, over all tables, is an Error rather than a long read. */
    max_rows: z.number().int().min(1).max(100_000_000).default(1_000_000),
    /** Rows read per page (each page streamed to the blob store as it comes). */
    page_size: z.number().int().min(1).max(10_000).default(1000),
    /** Rows erased per transaction. */
    batch_size: z.number().int().min(1).max(10_000).default(500),
    /** Parents before children: a table refers only to tables listed before it; erased in reverse. */
    tables: z.array(table).min(1),
  })
  .strict()
  .superRefine((options, ctx) => {
    const seen = new Map<string, SqlTable>();
    options.tables.forEach((t, index) => {
      const at = (...path: (string | number)[]) => ['tables', index, ...path];
      if (seen.has(t.name))
        ctx.addIssue({ code: 'custom', path: at('name'), message: `"${t.name}" is listed twice` });
      for (const [column, from] of Object.entries(t.match)) {
        if (from.startsWith('subject.')) continue;
        const parentName = from.slice(0, from.lastIndexOf('.'));
        const parent = seen.get(parentName);
        if (!parent) {
          ctx.addIssue({
            code: 'custom',
            path: at('match', column),
            message: `"${from}" names no table listed before this one`,
          });
          continue;
        }
        // A parent whose rows are deleted would leave this table's rows pointing at nothing (or
        // a foreign key refuses it): they must be deleted too, or the reference masked with null.
        if (parent.erase === 'delete' && t.erase !== 'delete' && t.erase.mask[column] !== null) {
          ctx.addIssue({
            code: 'custom',
            path: at('erase'),
            message: `${parentName} rows are deleted, so these rows must be deleted too, or ${column} masked with null`,
          });
        }
      }
      if (t.erase !== 'delete') {
        if (t.key in t.erase.mask)
          ctx.addIssue({
            code: 'custom',
            path: at('erase', 'mask', t.key),
            message: 'the key cannot be masked',
          });
        if (Object.values(t.erase.mask).includes('hash') && !options.hash_key_env)
          ctx.addIssue({
            code: 'custom',
            path: ['hash_key_env'],
            message: `is required: tables[${index}] masks a column with a keyed hash`,
          });
      }
      if (!seen.has(t.name)) seen.set(t.name, t);
    });
  });

export type SqlConnectorOptions = z.infer<typeof sqlConnectorOptions>;

/** The field a found record names its table by: the export writes a file per table. */
export { RECORD_TABLE } from '../connector';
