import assert from 'node:assert/strict';
import { databaseFailure } from '../../src/activities/connectors/sql/failure';
import { classifyFailure } from '../../src/domain';

/** What an operator reads for each database error, and whether Lethe tries again by itself. */
describe('the sql connector: database errors through the taxonomy', () => {
  const classify = (error: unknown, dialect: 'postgres' | 'mysql') =>
    classifyFailure(databaseFailure(error, dialect, { table: 'users', statement: 'DELETE' }).failure);

  const cases: [string, 'postgres' | 'mysql', object, string, boolean][] = [
    ['connection refused', 'postgres', { code: 'ECONNREFUSED', errno: -111 }, 'Internal Server Error', true],
    ['connection reset', 'mysql', { code: 'ECONNRESET' }, 'Internal Server Error', true],
    ['connection lost', 'mysql', { code: 'PROTOCOL_CONNECTION_LOST' }, 'Internal Server Error', true],
    ['server shut down', 'postgres', { code: '57P01' }, 'Internal Server Error', true],
    [
      'pg: terminated',
      'postgres',
      { message: 'Connection terminated unexpectedly' },
      'Internal Server Error',
      true,
    ],
    ['deadlock', 'postgres', { code: '40P01' }, 'Internal Server Error', true],
    ['serialization failure', 'postgres', { code: '40001' }, 'Internal Server Error', true],
    ['deadlock', 'mysql', { code: 'ER_LOCK_DEADLOCK', errno: 1213 }, 'Internal Server Error', true],
    ['lock timeout', 'postgres', { code: '55P03' }, 'Request timeout', true],
    ['statement timeout', 'postgres', { code: '57014' }, 'Request timeout', true],
    ['lock wait timeout', 'mysql', { code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }, 'Request timeout', true],
    ["MariaDB's max_statement_time", 'mysql', { errno: 1969 }, 'Request timeout', true],
    [
      "MySQL's max_execution_time",
      'mysql',
      { code: 'ER_QUERY_TIMEOUT', errno: 3024 },
      'Request timeout',
      true,
    ],
    ['an idle connection closed by the server', 'mysql', { errno: 4031 }, 'Internal Server Error', true],
    ["knex's own timeout", 'mysql', { name: 'KnexTimeoutError' }, 'Request timeout', true],
    ['bad password', 'postgres', { code: '28P01' }, 'Authorization error', false],
    ['bad password', 'mysql', { code: 'ER_ACCESS_DENIED_ERROR', errno: 1045 }, 'Authorization error', false],
    ['permission denied', 'postgres', { code: '42501' }, 'Insufficient permissions', false],
    [
      'permission denied',
      'mysql',
      { code: 'ER_TABLEACCESS_DENIED_ERROR', errno: 1142 },
      'Insufficient permissions',
      false,
    ],
    ['unknown table', 'postgres', { code: '42P01' }, 'Request error', false],
    ['unknown column', 'mysql', { code: 'ER_BAD_FIELD_ERROR', errno: 1054 }, 'Request error', false],
    ['foreign key', 'postgres', { code: '23001' }, 'Request error', false],
    ['anything else', 'postgres', { code: 'XX000' }, 'Lethe error', false],
    ['anything else', 'mysql', new Error('boom'), 'Lethe error', false],
  ];
  for (const [what, dialect, error, message, retryable] of cases) {
    it(`${dialect}, ${what}: ${message}${retryable ? ', retried' : ''}`, () => {
      assert.deepEqual(classify(error, dialect), { message, retryable });
    });
  }

  it('the message names the table, the statement and the code, never the driver’s text', () => {
    const failure = databaseFailure(
      { code: 'ER_DUP_ENTRY', errno: 1062, message: "Duplicate entry 'jane@example.com' for key 'email'" },
      'mysql',
      { table: 'users', statement: 'UPDATE' },
    );
    assert.equal(failure.message, 'table users: UPDATE failed, database error ER_DUP_ENTRY (1062)');
  });
});
