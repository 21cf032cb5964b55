import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import JSZip from 'jszip';
import type { Knex } from 'knex';
import { MariaDbServer, PostgresServer } from '../../scripts/databases';
import { connect } from '../support/databases';
import { validateLetheConfig } from '../../src/config/integrations-file';
import { verifyIntegrations } from '../../src/activities/connectors';
import { API_KEY } from '../support/stack';
import { call, eventually } from '../support/http';
import { integration, phaseOf, useStack } from '../support/lethe';
import {
  getShops,
  PASSWORDS,
  rowsOf,
  seedPerson,
  SHOP_TABLES,
  type Dialect,
  type Shop,
} from '../support/sql-shop';
import { sqlIntegrations } from '../support/integrations';

const hashOf = (value: string) => createHmac('sha256', process.env.SQL_HASH_KEY!).update(value).digest('hex');
const total = (rows: object) => (Object.values(rows) as number[]).reduce((a, b) => a + b, 0);
const NONE = { users: 0, addresses: 0, orders: 0, order_items: 0, support_tickets: 0 };

for (const d of ['pg', 'my'] as Dialect[]) {
  describe(`the sql connector on ${d === 'pg' ? 'PostgreSQL' : 'MariaDB'}: a five-table chain`, function () {
    this.timeout(120_000);
    const suite = useStack();
    let shop: Shop;
    let n = 0;
    const email = (what: string) => `${what}-${d}-${Date.now()}-${n++}@example.com`;
    const errorLog = async (id: string, iid: string) =>
      (
        await call<{ entries: { error: string | null; method: string | null; url: string | null }[] }>(
          suite.stack.apiUrl,
          'GET',
          `/v1/requests/${id}/integrations/${iid}/error-log`,
        )
      ).body.entries;
    const bystander = `bystander-${d}@example.com`;
    let bystanderRows: Awaited<ReturnType<typeof seedPerson>>;

    before(async function () {
      shop = (await getShops())[d];
      if ((await rowsOf(shop.db, bystander)).users === 0)
        bystanderRows = await seedPerson(shop.db, bystander);
      else bystanderRows = await rowsOf(shop.db, bystander);
    });

    afterEach(async () => {
      assert.deepEqual(await rowsOf(shop.db, bystander), bystanderRows, 'someone else’s rows are untouched');
    });

    it('access: every reached row, counted, and the export has a JSON file per table (and CSV for portability)', async () => {
      const who = email('access');
      const rows = await seedPerson(shop.db, who, { addresses: 2, orders: 3, items: 2, tickets: 1 });
      const created = await suite.lethe.create({
        type: 'portability',
        auto_process: true,
        subject: { email: who },
        integrations: [`shop-${d}`],
      });
      const request = await suite.lethe.until(
        created.id,
        (r) => r.closed && r.data_url !== null,
        'the export',
      );
      assert.deepEqual(phaseOf(request, `shop-${d}`, 'access'), {
        state: 'Complete',
        detail: `${total(rows)} records found`,
      });
      const zipped = await fetch(`${suite.stack.apiUrl}/v1/requests/${created.id}/export`, {
        headers: { 'X-Authorization': API_KEY },
      });
      const zip = await JSZip.loadAsync(await zipped.arrayBuffer());
      const folder = `integrations/shop-${d}`;
      for (const table of SHOP_TABLES) {
        const json = JSON.parse(await zip.file(`${folder}/${table}.json`)!.async('string')) as Record<
          string,
          unknown
        >[];
        assert.equal(json.length, rows[table], `${table}.json`);
        assert.ok(
          json.every((row) => !('@table' in row)),
          'rows as the database has them',
        );
        const csv = await zip.file(`${folder}/${table}.csv`)!.async('string');
        assert.equal(
          csv.trim().split('\r\n').length,
          rows[table] + 1,
          `${table}.csv: a header and a line a row`,
        );
      }
      const users = JSON.parse(await zip.file(`${folder}/users.json`)!.async('string')) as Record<
        string,
        unknown
      >[];
      assert.equal(users[0]!.email, who);
      assert.equal(users[0]!.name, 'Jane Doe');
      const orders = JSON.parse(await zip.file(`${folder}/orders.json`)!.async('string')) as Record<
        string,
        unknown
      >[];
      assert.deepEqual(
        Object.keys(orders[0]!).sort(),
        ['id', 'status', 'total', 'user_id'],
        'only the columns configured',
      );
      const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as {
        integrations: { id: string; tables?: Record<string, number> }[];
      };
      assert.deepEqual(manifest.integrations.find((i) => i.id === `shop-${d}`)!.tables, rows);
      assert.deepEqual(await rowsOf(shop.db, who), rows, 'access changes nothing');
    });

    it('deletion: children deleted before parents in batches, users and tickets masked; the keyed hash is stable across requests', async () => {
      const who = email('delete');
      const rows = await seedPerson(shop.db, who, { addresses: 3, orders: 7, items: 4, tickets: 2 });
      const deleteIt = async () => {
        const created = await suite.lethe.create({
          type: 'deletion',
          auto_process: true,
          subject: { email: who },
          integrations: [`shop-${d}`],
        });
        return suite.lethe.until(created.id, (r) => r.closed, 'the deletion', 60_000);
      };
      const request = await deleteIt();
      assert.equal(request.state, 'Data deleted');
      assert.deepEqual(phaseOf(request, `shop-${d}`, 'access'), {
        state: 'Complete',
        detail: `${total(rows)} records found`,
      });
      assert.deepEqual(phaseOf(request, `shop-${d}`, 'deletion'), {
        state: 'Complete',
        detail: `${total(rows)} records deleted`,
      });
      // Masked in place: found by the hash of the email from now on, and its joins still work.
      assert.deepEqual(await rowsOf(shop.db, who, hashOf(who)), { ...NONE, users: 1 });
      assert.deepEqual(await rowsOf(shop.db, hashOf(who), hashOf(who)), {
        ...NONE,
        users: 1,
        support_tickets: 2,
      });
      const user = await shop.db('users').where('email', hashOf(who)).first();
      assert.equal(user.name, null);
      assert.equal(user.phone, 'removed');
      const tickets = await shop.db('support_tickets').where('email', hashOf(who)).pluck('body');
      assert.deepEqual(tickets, ['[erased]', '[erased]']);

      // The same person again, in a later request: the same hash.
      await shop
        .db('users')
        .where('email', hashOf(who))
        .update({ email: `masked-${who}` });
      const again = await seedPerson(shop.db, who, { addresses: 0, orders: 0, tickets: 1 });
      const second = await deleteIt();
      assert.deepEqual(phaseOf(second, `shop-${d}`, 'deletion'), {
        state: 'Complete',
        detail: `${total(again)} records deleted`,
      });
      assert.equal(Number((await shop.db('users').where('email', hashOf(who)).count({ n: '*' }))[0]!.n), 1);
      assert.equal(
        Number((await shop.db('support_tickets').where('email', hashOf(who)).count({ n: '*' }))[0]!.n),
        3,
      );
    });

    it('deletion of every row: the foreign keys (ON DELETE RESTRICT) accept the order; deletion: full too', async () => {
      const who = email('erase');
      const rows = await seedPerson(shop.db, who, { addresses: 2, orders: 5, items: 3, tickets: 2 });
      const created = await suite.lethe.create({
        type: 'deletion',
        auto_process: true,
        subject: { email: who },
        integrations: [`shop-${d}-erase`],
      });
      const request = await suite.lethe.until(created.id, (r) => r.closed, 'the deletion', 60_000);
      assert.deepEqual(phaseOf(request, `shop-${d}-erase`, 'deletion'), {
        state: 'Complete',
        detail: `${total(rows)} records deleted`,
      });
      assert.deepEqual(await rowsOf(shop.db, who), NONE);

      const full = email('full');
      await seedPerson(shop.db, full, { addresses: 1, orders: 2, items: 2, tickets: 1 });
      const fullRequest = await suite.lethe.create({
        type: 'deletion',
        auto_process: true,
        subject: { email: full },
        integrations: [`shop-${d}-full`],
      });
      const done = await suite.lethe.until(fullRequest.id, (r) => r.closed, 'the full deletion', 60_000);
      assert.deepEqual(phaseOf(done, `shop-${d}-full`, 'access'), {
        state: 'Complete',
        detail: 'Full deletion',
      });
      assert.deepEqual(phaseOf(done, `shop-${d}-full`, 'deletion'), {
        state: 'Complete',
        detail: 'Deletion done',
      });
      assert.deepEqual(await rowsOf(shop.db, full), NONE);
    });

    it('a wrong order fails: users erased before their orders is refused by the foreign key, Request error, nothing erased', async () => {
      const who = email('order');
      const rows = await seedPerson(shop.db, who, { addresses: 0, orders: 2, items: 0, tickets: 0 });
      const id = String((await shop.db('users').where('email', who).first('id')).id);
      const created = await suite.lethe.create({
        type: 'deletion',
        auto_process: true,
        subject: { custom_id: id },
        integrations: [`shop-${d}-wrong-order`],
      });
      await suite.lethe.untilIntegration(created.id, `shop-${d}-wrong-order`, 'deletion', {
        state: 'Error',
        detail: 'Request error',
      });
      assert.deepEqual(await rowsOf(shop.db, who), rows, 'the batch rolled back');
      const entries = await errorLog(created.id, `shop-${d}-wrong-order`);
      const failed = entries.filter((e) => e.error);
      assert.match(
        failed.at(-1)!.error!,
        d === 'pg'
          ? /table users: DELETE failed, database error 23001/
          : /table users: DELETE failed, database error ER_ROW_IS_REFERENCED_2 \(1451\)/,
      );
    });

    it('a role without DELETE: Insufficient permissions, and the error log names the table and code, never a value', async () => {
      const who = email('nodelete');
      const rows = await seedPerson(shop.db, who, { addresses: 1, orders: 1, items: 1, tickets: 1 });
      const created = await suite.lethe.create({
        type: 'deletion',
        auto_process: true,
        subject: { email: who },
        integrations: [`shop-${d}-nodelete`],
      });
      await suite.lethe.untilIntegration(created.id, `shop-${d}-nodelete`, 'deletion', {
        state: 'Error',
        detail: 'Insufficient permissions',
      });
      // Children first: the tickets (masked, which the role may) before the order items it may not delete.
      assert.deepEqual(await rowsOf(shop.db, who), { ...rows, support_tickets: 0 });
      const entries = await errorLog(created.id, `shop-${d}-nodelete`);
      const failed = entries.filter((e) => e.error);
      assert.match(
        failed.at(-1)!.error!,
        d === 'pg'
          ? /table order_items: DELETE failed, database error 42501/
          : /table order_items: DELETE failed, database error ER_TABLEACCESS_DENIED_ERROR \(1142\)/,
      );
      const text = JSON.stringify(entries);
      for (const value of [who, 'Rue de la Paix', 'SKU-0', 'Jane', ...Object.values(PASSWORDS)])
        assert.ok(!text.includes(value), `the log does not show ${value}`);
    });

    it('a wrong password: Authorization error', async () => {
      const created = await suite.lethe.create({
        type: 'access',
        subject: { email: email('badpw') },
        integrations: [`shop-${d}-badpw`],
      });
      await suite.lethe.untilIntegration(created.id, `shop-${d}-badpw`, 'access', {
        state: 'Error',
        detail: 'Authorization error',
      });
      const entries = await errorLog(created.id, `shop-${d}-badpw`);
      assert.ok(!JSON.stringify(entries).includes('not-the-password'), 'the password is not in the log');
    });

    it('the access phase reads through its own connection (a read-only role), the deletion through the other', async () => {
      const who = email('split');
      const rows = await seedPerson(shop.db, who, { addresses: 1, orders: 1, items: 1, tickets: 1 });
      const created = await suite.lethe.create({
        type: 'deletion',
        auto_process: true,
        subject: { email: who },
        integrations: [`shop-${d}-split`],
      });
      const request = await suite.lethe.untilIntegration(created.id, `shop-${d}-split`, 'deletion', {
        state: 'Error',
        detail: 'Authorization error',
      });
      assert.deepEqual(phaseOf(request, `shop-${d}-split`, 'access'), {
        state: 'Complete',
        detail: `${total(rows)} records found`,
      });
      assert.deepEqual(await rowsOf(shop.db, who), rows);
      // And the read-only role cannot erase: a deletion through it is refused by the database.
      const readOnly = await shop.db.raw(
        d === 'pg'
          ? "select has_table_privilege('lethe_ro', 'users', 'DELETE') as can"
          : "select count(*) as can from information_schema.table_privileges where grantee like '%lethe_ro%' and privilege_type = 'DELETE'",
      );
      const can =
        d === 'pg'
          ? (readOnly as { rows: { can: boolean }[] }).rows[0]!.can
          : Number((readOnly as [{ can: number }[]])[0][0]!.can) > 0;
      assert.equal(can, false);
    });

    it('a database that is down: retried, then Internal Server Error', async () => {
      const created = await suite.lethe.create({
        type: 'access',
        subject: { email: email('down') },
        integrations: [`shop-${d}-down`],
      });
      await suite.lethe.untilIntegration(created.id, `shop-${d}-down`, 'access', {
        state: 'Error',
        detail: 'Internal Server Error',
      });
      const failed = (await errorLog(created.id, `shop-${d}-down`)).filter((e) => e.error);
      assert.equal(failed.length, 3, 'max_attempts: 3');
    });

    it('a lock held past the statement timeout: Request timeout, retried, and done once the lock goes', async () => {
      const who = email('locked');
      const rows = await seedPerson(shop.db, who, { addresses: 1, orders: 2, items: 1, tickets: 0 });
      const locker = await shop.db.transaction();
      await locker('order_items')
        .whereIn(
          'order_id',
          shop
            .db('orders')
            .select('id')
            .whereIn('user_id', shop.db('users').select('id').where('email', who)),
        )
        .forUpdate();
      try {
        const created = await suite.lethe.create({
          type: 'deletion',
          auto_process: true,
          subject: { email: who },
          integrations: [`shop-${d}-impatient`],
        });
        const retrying = await suite.lethe.until(
          created.id,
          (r) => (integration(r, `shop-${d}-impatient`).deletion?.attempt ?? 0) >= 2,
          'a second attempt',
          30_000,
        );
        const view = integration(retrying, `shop-${d}-impatient`).deletion!;
        assert.equal(view.state, 'Processing');
        assert.equal(view.last_error, 'Request timeout');
        await locker.rollback();
        const request = await suite.lethe.until(created.id, (r) => r.closed, 'the deletion', 30_000);
        assert.deepEqual(phaseOf(request, `shop-${d}-impatient`, 'deletion'), {
          state: 'Complete',
          detail: `${total(rows)} records deleted`,
        });
        const failed = (await errorLog(created.id, `shop-${d}-impatient`)).filter((e) => e.error);
        assert.match(
          failed[0]!.error!,
          d === 'pg'
            ? /table order_items: DELETE failed, database error (55P03|57014)/
            : /table order_items: DELETE failed, database error ER_LOCK_WAIT_TIMEOUT \(1205\)/,
        );
      } finally {
        if (!locker.isCompleted()) await locker.rollback();
      }
    });

    if (d === 'pg')
      it('a deadlock: the database ends the deletion’s transaction, which is retried and completes', async () => {
        const who = email('deadlock');
        const rows = await seedPerson(shop.db, who, { addresses: 0, orders: 1, items: 3, tickets: 0 });
        const items = (await shop
          .db('order_items')
          .whereIn(
            'order_id',
            shop
              .db('orders')
              .select('id')
              .whereIn('user_id', shop.db('users').select('id').where('email', who)),
          )
          .orderBy('id')
          .pluck('id')) as number[];
        // This session holds the last item; the deletion's batch takes the first ones, then waits on it.
        const other = await shop.db.transaction();
        try {
          await other('order_items').where('id', items[2]!).forUpdate();
          const created = await suite.lethe.create({
            type: 'deletion',
            auto_process: true,
            subject: { email: who },
            integrations: [`shop-${d}`],
          });
          await eventually(
            async () =>
              Number(
                (
                  await shop.db.raw<{ rows: { n: string }[] }>(
                    "select count(*) as n from pg_stat_activity where application_name = 'lethe' and wait_event_type = 'Lock'",
                  )
                ).rows[0]!.n,
              ),
            (waiting) => waiting > 0,
            { what: 'the deletion to wait on the held item', timeoutMs: 20_000, intervalMs: 50 },
          );
          // Now this session wants the first item, which the deletion holds: a deadlock, which
          // PostgreSQL breaks by ending the transaction that waited first, the deletion's.
          const mine = other('order_items')
            .where('id', items[0]!)
            .forUpdate()
            .then(() => undefined); // sent now: a query builder runs when it is awaited
          const retrying = await suite.lethe.until(
            created.id,
            (r) => (integration(r, `shop-${d}`).deletion?.attempt ?? 0) >= 2,
            'a second attempt',
            30_000,
          );
          assert.equal(integration(retrying, `shop-${d}`).deletion!.last_error, 'Internal Server Error');
          await mine;
          await other.rollback();
          const request = await suite.lethe.until(created.id, (r) => r.closed, 'the deletion', 60_000);
          assert.deepEqual(phaseOf(request, `shop-${d}`, 'deletion'), {
            state: 'Complete',
            detail: `${total(rows)} records deleted`,
          });
          const failed = (await errorLog(created.id, `shop-${d}`)).filter((e) => e.error);
          assert.match(failed[0]!.error!, /table order_items: DELETE failed, database error 40P01/);
        } finally {
          if (!other.isCompleted()) await other.rollback();
        }
      });

    it('a column dropped after start-up: Request error naming the table', async () => {
      const who = email('newsletter');
      await shop.db('newsletter').insert({ email: who, nickname: 'janie' });
      const first = await suite.lethe.create({
        type: 'access',
        subject: { email: who },
        integrations: [`shop-${d}-newsletter`],
      });
      await suite.lethe.untilIntegration(first.id, `shop-${d}-newsletter`, 'access', {
        state: 'Complete',
        detail: '1 record found',
      });
      await shop.db.schema.alterTable('newsletter', (t) => t.dropColumn('nickname'));
      try {
        const created = await suite.lethe.create({
          type: 'access',
          subject: { email: who },
          integrations: [`shop-${d}-newsletter`],
        });
        await suite.lethe.untilIntegration(created.id, `shop-${d}-newsletter`, 'access', {
          state: 'Error',
          detail: 'Request error',
        });
        const failed = (await errorLog(created.id, `shop-${d}-newsletter`)).filter((e) => e.error);
        assert.match(
          failed.at(-1)!.error!,
          d === 'pg'
            ? /table newsletter: SELECT failed, database error 42703/
            : /table newsletter: SELECT failed, database error ER_BAD_FIELD_ERROR \(1054\)/,
        );
        // And a worker starting now says which column is missing.
        const { problems } = await verifyIntegrations(suite.stack.config, (v) => process.env[v]);
        assert.deepEqual(problems, [
          `integration "shop-${d}-newsletter" options.tables[0] (newsletter): no column "nickname"`,
        ]);
      } finally {
        await shop.db.schema.alterTable('newsletter', (t) => t.string('nickname', 255));
      }
    });

    it('a parent’s key column renamed after start-up: a full deletion ends in Request error, and nobody else’s rows are touched', async () => {
      const who = email('renamed');
      await seedPerson(shop.db, who, { addresses: 1, orders: 2, items: 1, tickets: 0 });
      await shop.db.schema.alterTable('users', (t) => t.renameColumn('id', 'uid'));
      try {
        // A full deletion reads nothing first: unqualified, the subquery's `id` would be read as the
        // child's own and erase other people's rows before the users table failed.
        const created = await suite.lethe.create({
          type: 'deletion',
          auto_process: true,
          subject: { email: who },
          integrations: [`shop-${d}-full`],
        });
        await suite.lethe.untilIntegration(created.id, `shop-${d}-full`, 'deletion', {
          state: 'Error',
          detail: 'Request error',
        });
      } finally {
        await shop.db.schema.alterTable('users', (t) => t.renameColumn('uid', 'id'));
      }
    });

    it('subject values that look like SQL find nothing and drop nothing', async () => {
      const before = Number((await shop.db('users').count({ n: '*' }))[0]!.n);
      const values = [`x' OR '1'='1`, `'; DROP TABLE users; --`, `" OR ""="`, "x\\' OR 1=1 -- "];
      for (const value of values) {
        const created = await suite.lethe.create({
          type: 'deletion',
          auto_process: true,
          // An email may hold a quote too: x'--@example.com is a valid address.
          subject: { email: `x'--@example.com`, custom_id: value },
          integrations: [`shop-${d}-erase`, `shop-${d}-by-name`],
        });
        const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request', 60_000);
        for (const id of [`shop-${d}-erase`, `shop-${d}-by-name`])
          assert.deepEqual(phaseOf(request, id, 'access'), { state: 'Complete', detail: 'No records found' });
      }
      assert.equal(Number((await shop.db('users').count({ n: '*' }))[0]!.n), before, 'no row went');
      for (const table of SHOP_TABLES)
        assert.ok(await shop.db.schema.hasTable(table), `${table} is still there`);
    });

    it('more rows than max_rows: an Error that says so', async () => {
      const who = email('capped');
      await seedPerson(shop.db, who, { addresses: 5, orders: 5, items: 1, tickets: 0 });
      const created = await suite.lethe.create({
        type: 'access',
        subject: { email: who },
        integrations: [`shop-${d}-capped`],
      });
      await suite.lethe.untilIntegration(created.id, `shop-${d}-capped`, 'access', {
        state: 'Error',
        detail: 'Lethe error',
      });
      const failed = (await errorLog(created.id, `shop-${d}-capped`)).filter((e) => e.error);
      assert.match(failed.at(-1)!.error!, /more than 10 rows in this database \(max_rows\)/);
    });

    it('a worker stopped mid-deletion: the next one finishes, nothing erased twice, the count is what access found', async () => {
      const who = email('killed');
      const rows = await seedPerson(shop.db, who, { addresses: 2, orders: 60, items: 3, tickets: 2 });
      const userId = (await shop.db('users').where('email', who).first('id')).id as number;
      // Another session holds the last order: the deletion, five rows a transaction, waits on it there.
      const locker = await shop.db.transaction();
      await locker('orders').where('user_id', userId).orderBy('id', 'desc').limit(1).forUpdate();
      try {
        const created = await suite.lethe.create({
          type: 'deletion',
          auto_process: true,
          subject: { email: who },
          integrations: [`shop-${d}-slow`],
        });
        await suite.lethe.untilIntegration(created.id, `shop-${d}-slow`, 'access', {
          state: 'Complete',
          detail: `${total(rows)} records found`,
        });
        await eventually(
          () => rowsOf(shop.db, who),
          (now) => now.order_items === 0 && now.orders === 5,
          { what: 'the deletion to reach the locked order', timeoutMs: 30_000, intervalMs: 50 },
        );
        // The worker stops while a batch waits; the lock goes a moment later, so the batch commits
        // and the attempt ends before it is noted: the next worker finds that batch in doubt.
        const stopping = suite.stack.stopWorker();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await locker.rollback();
        await stopping;
        const between = await rowsOf(shop.db, who);
        assert.ok(
          between.users === 1 && between.addresses === 2,
          `stopped part-way: ${JSON.stringify(between)}`,
        );
        await suite.stack.startWorker();
        const request = await suite.lethe.until(created.id, (r) => r.closed, 'the deletion', 90_000);
        assert.deepEqual(phaseOf(request, `shop-${d}-slow`, 'deletion'), {
          state: 'Complete',
          detail: `${total(rows)} records deleted`,
        });
        // Masked once: the hash of the email, not the hash of a hash.
        assert.deepEqual(await rowsOf(shop.db, hashOf(who), hashOf(who)), {
          ...NONE,
          users: 1,
          support_tickets: 2,
        });
        assert.deepEqual(await rowsOf(shop.db, who), NONE);
      } finally {
        if (!locker.isCompleted()) await locker.rollback();
        await suite.stack.startWorker().catch(() => undefined);
      }
    });
  });
}

describe('the sql connector: its configuration, checked at start-up', function () {
  const base = () => sqlIntegrations('pg')[0]!;
  const config = (options: Record<string, unknown>) => ({
    integrations: [{ ...base(), options: { ...base().options, ...options } }],
  });
  const refused = (options: Record<string, unknown>) => {
    try {
      validateLetheConfig(config(options));
    } catch (error) {
      return (error as Error).message;
    }
    return assert.fail('the configuration was accepted');
  };

  it('a table name that is not an identifier is refused, naming the field', () => {
    for (const name of ['users; DROP TABLE users', 'users"', 'a b', '1users', 'public.users.x', '']) {
      const message = refused({ tables: [{ name, match: { email: 'subject.email' } }] });
      assert.match(message, /integration "shop-pg" options\.tables\[0\]\.name: must be an SQL identifier/);
    }
  });

  it('columns, matches and masks are checked: identifiers, tables listed before, one match, a hash key', () => {
    assert.match(
      refused({ tables: [{ name: 'users', match: { 'email; --': 'subject.email' } }] }),
      /options\.tables\[0\]\.match\.email; --: Invalid key in record/,
    );
    assert.match(
      refused({ tables: [{ name: 'orders', match: { user_id: 'users.id' } }] }),
      /options\.tables\[0\]\.match\.user_id: "users\.id" names no table listed before this one/,
    );
    assert.match(
      refused({ tables: [{ name: 'users', match: { email: 'subject.shoe_size' } }] }),
      /options\.tables\[0\]\.match\.email: must be subject\./,
    );
    assert.match(
      refused({
        hash_key_env: undefined,
        tables: [{ name: 'users', match: { email: 'subject.email' }, erase: { mask: { email: 'hash' } } }],
      }),
      /options\.hash_key_env: is required/,
    );
    assert.match(
      refused({
        tables: [
          { name: 'users', match: { email: 'subject.email' } },
          { name: 'orders', match: { user_id: 'users.id' }, erase: { mask: { status: null } } },
        ],
      }),
      /options\.tables\[1\]\.erase: users rows are deleted, so these rows must be deleted too, or user_id masked with null/,
    );
    assert.match(refused({ url_env: 'postgres://x' }), /options\.url_env: must name an environment variable/);
  });

  it('a table or column missing from the database is named before the worker starts', async () => {
    await getShops();
    const checked = validateLetheConfig(
      config({
        tables: [
          { name: 'users', match: { email: 'subject.email' }, columns: ['id', 'email', 'shoe_size'] },
          { name: 'wishlists', match: { user_id: 'users.id' } },
        ],
      }),
    );
    const { problems } = await verifyIntegrations(checked, (v) => process.env[v]);
    assert.deepEqual(problems, [
      'integration "shop-pg" options.tables[0] (users): no column "shoe_size"',
      'integration "shop-pg" options.tables[1].name: no table "wishlists" in the database (or none its role may see)',
    ]);
  });
});

describe('the sql connector: a database that crashes mid-statement', function () {
  this.timeout(120_000);
  const suite = useStack();

  for (const d of ['pg', 'my'] as Dialect[]) {
    it(`${d === 'pg' ? 'PostgreSQL' : 'MariaDB'}: the connection lost is retried, then refused while it is down, and the access completes once it is back`, async () => {
      const server = d === 'pg' ? await PostgresServer.start() : await MariaDbServer.start();
      const admin = connect(server);
      let locker: Knex.Transaction | undefined;
      try {
        await admin.raw('CREATE DATABASE lost');
        const db = connect(server, 'lost');
        await db.schema.createTable('people', (t) => {
          t.increments('id');
          t.string('email', 255);
        });
        await db('people').insert([{ email: 'lost@example.com' }, { email: 'lost@example.com' }]);
        await db.destroy();
        process.env[`SQL_${d.toUpperCase()}_LOST_URL`] = server.url('lost');
        // A table lock makes the read wait, so the crash comes while the statement is in flight.
        const holder = connect(server, 'lost');
        locker = await holder.transaction();
        await locker.raw(
          d === 'pg' ? 'LOCK TABLE people IN ACCESS EXCLUSIVE MODE' : 'LOCK TABLES people WRITE',
        );
        const created = await suite.lethe.create({
          type: 'access',
          subject: { email: 'lost@example.com' },
          integrations: [`lost-${d}`],
        });
        await eventually(
          async () => {
            const watcher = connect(server, 'lost');
            try {
              if (d === 'pg')
                return Number(
                  (
                    await watcher.raw<{ rows: { n: string }[] }>(
                      "select count(*) as n from pg_stat_activity where wait_event_type = 'Lock'",
                    )
                  ).rows[0]!.n,
                );
              const [list] = (await watcher.raw('SHOW PROCESSLIST')) as [{ State: string | null }[]];
              return list.filter((p) => /lock/i.test(p.State ?? '')).length;
            } finally {
              await watcher.destroy();
            }
          },
          (waiting) => waiting > 0,
          { what: 'the read to wait on the lock', timeoutMs: 20_000, intervalMs: 100 },
        );
        await server.kill();
        void holder.destroy().catch(() => undefined);
        locker = undefined;
        await suite.lethe.until(
          created.id,
          (r) => (integration(r, `lost-${d}`).access.attempt ?? 0) >= 3,
          'two failed attempts',
          30_000,
        );
        await server.restart();
        const request = await suite.lethe
          .untilIntegration(
            created.id,
            `lost-${d}`,
            'access',
            { state: 'Complete', detail: '2 records found' },
            30_000,
          )
          .catch(async (error: Error) => {
            const log = await call(
              suite.stack.apiUrl,
              'GET',
              `/v1/requests/${created.id}/integrations/lost-${d}/error-log`,
            );
            throw new Error(`${error.message.slice(0, 300)}\nerror log: ${JSON.stringify(log.body)}`);
          });
        assert.equal(integration(request, `lost-${d}`).access.state, 'Complete');
        const failed = (
          await call<{ entries: { error: string | null }[] }>(
            suite.stack.apiUrl,
            'GET',
            `/v1/requests/${created.id}/integrations/lost-${d}/error-log`,
          )
        ).body.entries.filter((e) => e.error);
        assert.match(
          failed[0]!.error!,
          d === 'pg'
            ? /table people: SELECT failed, database error (57P01|57P02|none \(connection lost\)|ECONNRESET)/
            : /table people: SELECT failed, database error (PROTOCOL_CONNECTION_LOST|ECONNRESET)/,
        );
        assert.ok(
          failed.some((e) => /ECONNREFUSED/.test(e.error!)),
          'refused while it was down',
        );
      } finally {
        await locker?.rollback().catch(() => undefined);
        await admin.destroy().catch(() => undefined);
        await server.stop();
      }
    });
  }
});
