import type { Knex } from 'knex';
import type { DatabaseServer } from '../../scripts/databases';
import { freePort } from '../../scripts/processes';
import { connect, getDatabases } from './databases';

/**
 * The sql connector's test database, on both dialects: a shop whose five tables hang together by
 * foreign keys that refuse a wrong order (ON DELETE RESTRICT): users ← addresses, users ← orders
 * ← order_items, and support_tickets found by email. Roles: lethe_rw (read, update, delete),
 * lethe_ro (read only), lethe_nodelete (read and update, no delete).
 */
export const SHOP_TABLES = ['users', 'addresses', 'orders', 'order_items', 'support_tickets'] as const;
export type ShopTable = (typeof SHOP_TABLES)[number];
export const PASSWORDS = { lethe_rw: 'rw-secret-1', lethe_ro: 'ro-secret-2', lethe_nodelete: 'nd-secret-3' };
export type Dialect = 'pg' | 'my';

/** The chain as an application would have it: every foreign key indexed (PostgreSQL does not do it itself). */
export async function createSchema(db: Knex): Promise<void> {
  await db.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email', 255).notNullable().unique();
    t.string('name', 255);
    t.string('phone', 64);
    t.timestamp('created_at').defaultTo(db.fn.now());
  });
  await db.schema.createTable('addresses', (t) => {
    t.increments('id');
    t.integer('user_id')
      .unsigned()
      .notNullable()
      .references('id')
      .inTable('users')
      .onDelete('RESTRICT')
      .index();
    t.string('street', 255);
    t.string('city', 255);
  });
  await db.schema.createTable('orders', (t) => {
    t.increments('id');
    t.integer('user_id')
      .unsigned()
      .notNullable()
      .references('id')
      .inTable('users')
      .onDelete('RESTRICT')
      .index();
    t.decimal('total', 10, 2);
    t.string('status', 32);
  });
  await db.schema.createTable('order_items', (t) => {
    t.increments('id');
    t.integer('order_id')
      .unsigned()
      .notNullable()
      .references('id')
      .inTable('orders')
      .onDelete('RESTRICT')
      .index();
    t.string('sku', 64);
    t.integer('quantity');
  });
  await db.schema.createTable('support_tickets', (t) => {
    t.increments('id');
    t.string('email', 255).notNullable().index();
    t.string('subject', 255);
    t.text('body');
  });
  // A table the drop-a-column test changes under a running worker.
  await db.schema.createTable('newsletter', (t) => {
    t.increments('id');
    t.string('email', 255).notNullable();
    t.string('nickname', 255);
  });
}

async function createRoles(db: Knex, dialect: Dialect, database: string): Promise<void> {
  const grants: Record<keyof typeof PASSWORDS, string> = {
    lethe_rw: 'SELECT, UPDATE, DELETE',
    lethe_ro: 'SELECT',
    lethe_nodelete: 'SELECT, UPDATE',
  };
  for (const [role, privileges] of Object.entries(grants)) {
    const password = PASSWORDS[role as keyof typeof PASSWORDS];
    if (dialect === 'pg') {
      await db.raw(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await db.raw(`GRANT ${privileges} ON ALL TABLES IN SCHEMA public TO ${role}`);
    } else {
      await db.raw(`CREATE USER '${role}'@'%' IDENTIFIED BY '${password}'`);
      await db.raw(`GRANT ${privileges} ON ${database}.* TO '${role}'@'%'`);
    }
  }
}

export interface Shop {
  dialect: Dialect;
  server: DatabaseServer;
  /** The administrator's connection to the shop database. */
  db: Knex;
  url(role: keyof typeof PASSWORDS, password?: string): string;
}

async function setUpShop(server: DatabaseServer, dialect: Dialect): Promise<Shop> {
  const admin = connect(server);
  await admin.raw('CREATE DATABASE shop');
  await admin.destroy();
  const db = connect(server, 'shop');
  await createSchema(db);
  await createRoles(db, dialect, 'shop');
  return {
    dialect,
    server,
    db,
    url: (role, password = PASSWORDS[role]) => server.url('shop', role, password),
  };
}

let shops: Promise<Record<Dialect, Shop>> | undefined;

/**
 * Both shops, made once per run, and the environment variables the test integrations name
 * (SQL_<PG|MY>_<RW|RO|NODELETE|BADPW>_URL, SQL_HASH_KEY) set to reach them.
 */
export function getShops(): Promise<Record<Dialect, Shop>> {
  shops ??= (async () => {
    const { postgres, mariadb } = await getDatabases();
    const [pg, my] = await Promise.all([setUpShop(postgres, 'pg'), setUpShop(mariadb, 'my')]);
    for (const shop of [pg, my]) {
      const prefix = `SQL_${shop.dialect.toUpperCase()}`;
      process.env[`${prefix}_RW_URL`] = shop.url('lethe_rw');
      process.env[`${prefix}_RO_URL`] = shop.url('lethe_ro');
      process.env[`${prefix}_NODELETE_URL`] = shop.url('lethe_nodelete');
      process.env[`${prefix}_BADPW_URL`] = shop.url('lethe_rw', 'not-the-password');
    }
    // Where no server listens: a database that is down.
    const closed = await freePort();
    process.env.SQL_PG_DOWN_URL = `postgres://lethe_rw:x@127.0.0.1:${closed}/shop`;
    process.env.SQL_MY_DOWN_URL = `mysql://lethe_rw:x@127.0.0.1:${closed}/shop`;
    process.env.SQL_HASH_KEY = 'test-hash-key-test-hash-key';
    return { pg, my };
  })();
  return shops;
}

export async function closeShops(): Promise<void> {
  if (!shops) return;
  const made = await shops.catch(() => undefined);
  shops = undefined;
  if (made) await Promise.all([made.pg.db.destroy(), made.my.db.destroy()]);
}

export interface SubjectRows {
  users: number;
  addresses: number;
  orders: number;
  order_items: number;
  support_tickets: number;
}

/** One person in the shop: a user with addresses, orders of items, and support tickets. */
export async function seedPerson(
  db: Knex,
  email: string,
  sizes: { addresses?: number; orders?: number; items?: number; tickets?: number } = {},
): Promise<SubjectRows> {
  const { addresses = 2, orders = 3, items = 2, tickets = 1 } = sizes;
  await db('users').insert({ email, name: 'Jane Doe', phone: '+33 6 12 34 56 78' });
  const userId = Number(
    await db('users')
      .where('email', email)
      .first('id')
      .then((row: { id: number }) => row.id),
  );
  if (addresses > 0)
    await db.batchInsert(
      'addresses',
      Array.from({ length: addresses }, (_, i) => ({
        user_id: userId,
        street: `${i} Rue de la Paix`,
        city: 'Paris',
      })),
      1000,
    );
  const orderIds: number[] = [];
  for (let i = 0; i < orders; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, orders - i) }, () => ({
      user_id: userId,
      total: 12.5,
      status: 'paid',
    }));
    await db.batchInsert('orders', rows, 1000);
  }
  if (orders > 0)
    orderIds.push(...(await db('orders').where('user_id', userId).orderBy('id').pluck('id')).map(Number));
  if (items > 0 && orderIds.length > 0) {
    const rows = orderIds.flatMap((orderId) =>
      Array.from({ length: items }, (_, i) => ({ order_id: orderId, sku: `SKU-${i}`, quantity: 1 })),
    );
    await db.batchInsert('order_items', rows, 1000);
  }
  if (tickets > 0)
    await db.batchInsert(
      'support_tickets',
      Array.from({ length: tickets }, (_, i) => ({
        email,
        subject: `Ticket ${i}`,
        body: 'My parcel is late',
      })),
      1000,
    );
  return { users: 1, addresses, orders, order_items: orders * items, support_tickets: tickets };
}

/** How many rows of each table belong to the person with this email (as the shop links them). */
export async function rowsOf(db: Knex, email: string, userEmail = email): Promise<SubjectRows> {
  const users = db('users').where('email', userEmail).select('id');
  const orders = db('orders').whereIn('user_id', users.clone()).select('id');
  const count = async (query: Knex.QueryBuilder) =>
    Number(((await query.count({ n: '*' })) as { n: number }[])[0]!.n);
  return {
    users: await count(db('users').where('email', userEmail)),
    addresses: await count(db('addresses').whereIn('user_id', users.clone())),
    orders: await count(db('orders').whereIn('user_id', users.clone())),
    order_items: await count(db('order_items').whereIn('order_id', orders)),
    support_tickets: await count(db('support_tickets').where('email', email)),
  };
}
