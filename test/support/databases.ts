import knex, { type Knex } from 'knex';
import { MariaDbServer, PostgresServer, type DatabaseServer } from '../../scripts/databases';

export interface Databases {
  postgres: PostgresServer;
  mariadb: MariaDbServer;
}

let started: Promise<Databases> | undefined;

/** A real PostgreSQL and a real MariaDB, started by the first suite that needs them, stopped after the last. */
export function getDatabases(): Promise<Databases> {
  started ??= Promise.all([PostgresServer.start(), MariaDbServer.start()]).then(([postgres, mariadb]) => ({
    postgres,
    mariadb,
  }));
  return started;
}

export async function stopDatabases(): Promise<void> {
  if (!started) return;
  const servers = await started.catch(() => undefined);
  started = undefined;
  if (servers) await Promise.all([servers.postgres.stop(), servers.mariadb.stop()]);
}

/** A connection as the administrator (or as `user`), for a test to set up and look. */
export function connect(server: DatabaseServer, database?: string, user?: string, password?: string): Knex {
  return knex({
    client: server.dialect === 'postgres' ? 'pg' : 'mysql2',
    connection: server.url(database, user, password),
    pool: { min: 0, max: 4 },
  });
}
