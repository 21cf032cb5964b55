import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { connect, getDatabases, type Databases } from '../support/databases';

describe('the sql connector: real database servers', function () {
  this.timeout(120_000);
  let databases: Databases;

  before(async () => {
    databases = await getDatabases();
  });

  it('PostgreSQL 18 runs on 127.0.0.1 as an unprivileged user', async () => {
    const db = connect(databases.postgres);
    try {
      const { rows } = await db.raw<{ rows: { version: string; superuser: string }[] }>(
        "select version(), (select rolname from pg_roles where oid = 10) as superuser, current_setting('data_directory') as folder",
      );
      // It refuses root; its data folder belongs to the user it runs as.
      assert.notEqual(statSync((rows[0] as unknown as { folder: string }).folder).uid, 0);
      assert.match(rows[0]!.version, /^PostgreSQL 18\./);
      assert.equal(rows[0]!.superuser, 'postgres');
    } finally {
      await db.destroy();
    }
  });

  it('MariaDB runs on 127.0.0.1', async () => {
    const db = connect(databases.mariadb);
    try {
      const [rows] = (await db.raw('select version() as version')) as [{ version: string }[]];
      assert.match(rows[0]!.version, /MariaDB/);
    } finally {
      await db.destroy();
    }
  });
});
