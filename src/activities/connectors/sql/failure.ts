import type { DatabaseFailureReason } from '../../../domain';
import { ConnectorFailure } from '../connector';

/** PostgreSQL's SQLSTATE codes by what they mean (classes 08, 22, 23, 28, 40, 42, 53, 55, 57). */
function postgresReason(code: string): DatabaseFailureReason {
  if (code === '28P01' || code === '28000') return 'authentication';
  if (code === '42501') return 'permission';
  if (['42P01', '42703', '3F000', '3D000', '42883'].includes(code)) return 'unknown_object';
  if (code === '40001' || code === '40P01') return 'contention';
  if (code === '55P03' || code === '57014') return 'timeout';
  if (code === '57P03' || code === '53300') return 'unreachable';
  if (code.startsWith('08') || code === '57P01' || code === '57P02') return 'lost';
  if (code.startsWith('22') || code.startsWith('23')) return 'rejected';
  return 'other';
}

/** MySQL's and MariaDB's error names (mysql2 gives them as `code`). */
const MYSQL_REASONS: Record<string, DatabaseFailureReason> = {
  ER_ACCESS_DENIED_ERROR: 'authentication',
  ER_DBACCESS_DENIED_ERROR: 'permission',
  ER_TABLEACCESS_DENIED_ERROR: 'permission',
  ER_COLUMNACCESS_DENIED_ERROR: 'permission',
  ER_SPECIFIC_ACCESS_DENIED_ERROR: 'permission',
  ER_NO_SUCH_TABLE: 'unknown_object',
  ER_BAD_FIELD_ERROR: 'unknown_object',
  ER_BAD_DB_ERROR: 'unknown_object',
  ER_LOCK_DEADLOCK: 'contention',
  ER_LOCK_WAIT_TIMEOUT: 'timeout',
  ER_QUERY_INTERRUPTED: 'timeout',
  ER_STATEMENT_TIMEOUT: 'timeout',
  ER_QUERY_TIMEOUT: 'timeout',
  ER_CON_COUNT_ERROR: 'unreachable',
  ER_SERVER_SHUTDOWN: 'lost',
  PROTOCOL_CONNECTION_LOST: 'lost',
  ER_ROW_IS_REFERENCED: 'rejected',
  ER_ROW_IS_REFERENCED_2: 'rejected',
  ER_NO_REFERENCED_ROW_2: 'rejected',
  ER_DATA_TOO_LONG: 'rejected',
  ER_TRUNCATED_WRONG_VALUE: 'rejected',
  ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: 'rejected',
  ER_DUP_ENTRY: 'rejected',
};

const NETWORK_REASONS: Record<string, DatabaseFailureReason> = {
  ECONNREFUSED: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENOTFOUND: 'unreachable',
  ECONNRESET: 'lost',
  EPIPE: 'lost',
  ETIMEDOUT: 'timeout',
};

/** Errors mysql2 has no name for (MariaDB's own): by number. */
const MYSQL_ERRNO_REASONS: Record<number, DatabaseFailureReason> = {
  1969: 'timeout', // MariaDB: max_statement_time exceeded
  4031: 'lost', // the server closed an idle connection
};

interface DriverError {
  name?: string;
  code?: unknown;
  errno?: unknown;
  message?: string;
}

/** The database's code of an error, as an operator looks it up: SQLSTATE, or MySQL's name and number. */
function codeOf(error: DriverError, reason: DatabaseFailureReason): string {
  const code = typeof error.code === 'string' ? error.code : '';
  if (typeof error.errno === 'number' && code) return `${code} (${error.errno})`;
  if (code) return code;
  if (typeof error.errno === 'number') return `errno ${error.errno}`;
  if (reason === 'timeout') return 'none (statement timeout)';
  if (reason === 'lost') return 'none (connection lost)';
  return 'none';
}

/**
 * Turns a driver's error into a failure the taxonomy classifies. Its message names the table,
 * the statement and the database's code, and never the driver's own text, which may quote a
 * row's values (a duplicate key, a value too long).
 */
export function databaseFailure(
  error: unknown,
  dialect: 'postgres' | 'mysql',
  where: { table?: string; statement: string },
): ConnectorFailure {
  if (error instanceof ConnectorFailure) return error;
  const driver = (error ?? {}) as DriverError;
  const code = typeof driver.code === 'string' ? driver.code : '';
  const byNumber = typeof driver.errno === 'number' ? MYSQL_ERRNO_REASONS[driver.errno] : undefined;
  let reason: DatabaseFailureReason = 'other';
  if (NETWORK_REASONS[code]) reason = NETWORK_REASONS[code];
  else if (driver.name === 'KnexTimeoutError') reason = 'timeout';
  else if (dialect === 'postgres' && /^[0-9A-Z]{5}$/.test(code)) reason = postgresReason(code);
  else if (dialect === 'mysql' && MYSQL_REASONS[code]) reason = MYSQL_REASONS[code];
  else if (dialect === 'mysql' && byNumber) reason = byNumber;
  // pg's own words when the server went away mid-query carry no code.
  else if (
    /Connection terminated|connection is closed|Client has encountered a connection error/i.test(
      driver.message ?? '',
    )
  )
    reason = 'lost';
  const table = where.table ? `table ${where.table}: ` : '';
  return new ConnectorFailure(
    { kind: 'database', reason },
    `${table}${where.statement} failed, database error ${codeOf(driver, reason)}`,
  );
}
