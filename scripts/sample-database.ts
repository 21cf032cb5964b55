/**
 * `make dev`'s first-party databases, made afresh at each start: a shop on PostgreSQL (users,
 * addresses, orders, order items) and a support desk on MariaDB (tickets matched by email, and
 * their messages), with the sandbox subject, jane.doe@example.com, in both. The default
 * integrations file reaches them as `app-db` and `support-db`.
 */
import knex, { type Knex } from 'knex';
import { MariaDbServer, PostgresServer } from './databases';

const SUBJECT = 'jane.doe@example.com';
const OTHERS = ['john.roe@example.com', 'ada.lovelace@example.com', 'alan.turing@example.com'];
const PASSWORDS = { lethe: 'lethe-sample-secret', lethe_reader: 'lethe-reader-secret' };

function connect(client: 'pg' | 'mysql2', url: string): Knex {
  return knex({ client, connection: url, pool: { min: 0, max: 2 } });
}

async function shop(db: Knex): Promise<void> {
  await db.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email', 255).notNullable().unique();
    t.string('full_name', 255);
    t.string('phone', 64);
    t.timestamp('created_at').defaultTo(db.fn.now());
  });
  await db.schema.createTable('addresses', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('RESTRICT');
    t.string('line1', 255);
    t.string('city', 128);
    t.string('country', 2);
  });
  await db.schema.createTable('orders', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('id').inTable('users').onDelete('RESTRICT').index();
    t.decimal('total', 10, 2);
    t.string('status', 32);
    t.timestamp('placed_at').defaultTo(db.fn.now());
  });
  await db.schema.createTable('order_items', (t) => {
    t.increments('id');
    t.integer('order_id').notNullable().references('id').inTable('orders').onDelete('RESTRICT').index();
    t.string('sku', 64);
    t.string('title', 255);
    t.integer('quantity');
  });
  const people = [SUBJECT, ...OTHERS];
  for (const [n, email] of people.entries()) {
    const name = email
      .split('@')[0]!
      .replace('.', ' ')
      .replace(/\b\w/g, (c) => c.toUpperCase());
    const [user] = (await db('users').insert({ email, full_name: name, phone: `+44 20 7946 00${n}0` }, [
      'id',
    ])) as {
      id: number;
    }[];
    await db('addresses').insert([
      { user_id: user!.id, line1: `${10 + n} Downing Street`, city: 'London', country: 'GB' },
      { user_id: user!.id, line1: `${n + 1} Rue de Rivoli`, city: 'Paris', country: 'FR' },
    ]);
    // Jane: 3 orders of 3, 2 and 2 items.
    for (const items of [3, 2, 2]) {
      const [order] = (await db('orders').insert(
        { user_id: user!.id, total: 19.9 * items, status: 'delivered' },
        ['id'],
      )) as { id: number }[];
      await db('order_items').insert(
        Array.from({ length: items }, (_, i) => ({
          order_id: order!.id,
          sku: `SKU-${100 + i}`,
          title: ['Notebook', 'Fountain pen', 'Ink, blue'][i % 3],
          quantity: 1,
        })),
      );
    }
  }
  await db.raw(`CREATE ROLE lethe LOGIN PASSWORD '${PASSWORDS.lethe}'`);
  await db.raw('GRANT SELECT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO lethe');
  await db.raw(`CREATE ROLE lethe_reader LOGIN PASSWORD '${PASSWORDS.lethe_reader}'`);
  await db.raw('GRANT SELECT ON ALL TABLES IN SCHEMA public TO lethe_reader');
}

async function supportDesk(db: Knex): Promise<void> {
  await db.schema.createTable('support_tickets', (t) => {
    t.increments('id');
    t.string('email', 255).notNullable().index();
    t.string('subject', 255);
    t.string('status', 32);
  });
  await db.schema.createTable('ticket_messages', (t) => {
    t.increments('id');
    t.integer('ticket_id')
      .unsigned()
      .notNullable()
      .references('id')
      .inTable('support_tickets')
      .onDelete('RESTRICT');
    t.string('author', 64);
    t.text('body');
  });
  for (const email of [SUBJECT, ...OTHERS]) {
    // Jane: 2 tickets, with 2 and 1 messages.
    for (const [subject, messages] of [
      ['Where is my parcel?', 2],
      ['Change my delivery address', 1],
    ] as const) {
      const [id] = (await db('support_tickets').insert({ email, subject, status: 'closed' })) as number[];
      await db('ticket_messages').insert(
        Array.from({ length: messages }, (_, i) => ({
          ticket_id: id,
          author: i === 0 ? 'customer' : 'agent',
          body: i === 0 ? `Hello, ${subject.toLowerCase()}` : 'Sorted, thank you for your patience.',
        })),
      );
    }
  }
  await db.raw(`CREATE USER 'lethe'@'%' IDENTIFIED BY '${PASSWORDS.lethe}'`);
  await db.raw("GRANT SELECT, DELETE ON support.* TO 'lethe'@'%'");
}

export interface SampleDatabases {
  /** The environment variables config/integrations.yaml names for them. */
  env: Record<string, string>;
  postgres: PostgresServer;
  mariadb: MariaDbServer;
  stop(): Promise<void>;
}

export async function startSampleDatabases(ports: {
  postgres: number;
  mariadb: number;
}): Promise<SampleDatabases> {
  const [postgres, mariadb] = await Promise.all([
    PostgresServer.start(ports.postgres),
    MariaDbServer.start(ports.mariadb),
  ]);
  const stop = async () => {
    await Promise.all([postgres.stop(), mariadb.stop()]);
  };
  try {
    const pgAdmin = connect('pg', postgres.url());
    await pgAdmin.raw('CREATE DATABASE shop');
    await pgAdmin.destroy();
    const pg = connect('pg', postgres.url('shop'));
    await shop(pg);
    await pg.destroy();
    const myAdmin = connect('mysql2', mariadb.url());
    await myAdmin.raw('CREATE DATABASE support');
    await myAdmin.destroy();
    const my = connect('mysql2', mariadb.url('support'));
    await supportDesk(my);
    await my.destroy();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    postgres,
    mariadb,
    stop,
    env: {
      APP_DB_URL: postgres.url('shop', 'lethe', PASSWORDS.lethe),
      APP_DB_READ_URL: postgres.url('shop', 'lethe_reader', PASSWORDS.lethe_reader),
      APP_DB_HASH_KEY: 'sample-hash-key-change-me',
      SUPPORT_DB_URL: mariadb.url('support', 'lethe', PASSWORDS.lethe),
    },
  };
}
