import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import {
  freePort,
  startLetheProcess,
  stopProcess,
  TemporalDevServer,
  untilPortOpen,
  untilReady,
} from '../../scripts/processes';
import { newEncryptionKey } from '../../src/infra/payload-codec';
import { connect, getDatabases } from '../support/databases';
import { eventually } from '../support/http';
import { LetheApi, phaseOf } from '../support/lethe';
import { createSchema, rowsOf, seedPerson, type SubjectRows } from '../support/sql-shop';
// The key LetheApi's calls carry.
import { API_KEY, workflowBundle } from '../support/stack';

const HASH_KEY = 'sql-processes-hash-key';
const total = (rows: SubjectRows) => Object.values(rows).reduce((a: number, b: number) => a + b, 0);
const NONE = { users: 0, addresses: 0, orders: 0, order_items: 0, support_tickets: 0 };

/** Peak and current resident memory of a process, in MB, from /proc. */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: field('VmRSS'), peakMb: field('VmHWM') };
}

/**
 * The sql connector with Lethe as separate processes: a worker killed with SIGKILL mid-deletion,
 * and one subject with 100,000 rows read and erased by a worker whose memory stays bounded.
 */
describe('the sql connector, worker and API as processes', function () {
  this.timeout(300_000);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-sql-processes-'));
  let temporal: TemporalDevServer;
  let api: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let healthPort: number;
  let lethe: LetheApi;
  let apiUrl: string;
  const dbs: Partial<Record<'postgres' | 'mysql', Knex>> = {};

  async function startWorker(): Promise<ChildProcess> {
    worker = startLetheProcess('worker', env);
    await untilReady(`http://127.0.0.1:${healthPort}/readyz`, 'the worker', { timeoutMs: 60_000 });
    return worker;
  }

  before(async function () {
    this.timeout(180_000);
    const { postgres, mariadb } = await getDatabases();
    temporal = new TemporalDevServer(await freePort());
    await temporal.start();
    for (const [dialect, server] of [
      ['postgres', postgres],
      ['mysql', mariadb],
    ] as const) {
      const admin = connect(server);
      await admin.raw('CREATE DATABASE processes');
      await admin.destroy();
      dbs[dialect] = connect(server, 'processes');
      await createSchema(dbs[dialect]);
    }
    const tables = (mask: boolean) => [
      {
        name: 'users',
        match: { email: 'subject.email' },
        ...(mask ? { erase: { mask: { email: 'hash', name: null } } } : {}),
      },
      { name: 'addresses', match: { user_id: 'users.id' } },
      { name: 'orders', match: { user_id: 'users.id' } },
      { name: 'order_items', match: { order_id: 'orders.id' } },
      { name: 'support_tickets', match: { email: 'subject.email' } },
    ];
    const integration = (id: string, dialect: 'postgres' | 'mysql', options: Record<string, unknown>) => ({
      id,
      name: id,
      type: 'api',
      connector: 'sql',
      retry: { initial_interval: '200ms', max_interval: '1s', max_attempts: 5 },
      options: {
        dialect,
        url_env: `PROCESSES_${dialect.toUpperCase()}_URL`,
        hash_key_env: 'PROCESSES_HASH_KEY',
        max_rows: 1_000_000,
        ...options,
      },
    });
    const configFile = path.join(scratch, 'integrations.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        integrations: (['postgres', 'mysql'] as const).flatMap((d) => [
          integration(`killed-${d}`, d, { batch_size: 50, tables: tables(true) }),
          integration(`large-${d}`, d, { tables: tables(false) }),
        ]),
      }),
    );
    const bundleFile = path.join(scratch, 'workflows.js');
    writeFileSync(bundleFile, (await workflowBundle()).code);
    const apiPort = await freePort();
    healthPort = await freePort();
    env = {
      TEMPORAL_ADDRESS: temporal.address,
      LETHE_DATA_DIR: path.join(scratch, 'data'),
      LETHE_INTEGRATIONS: configFile,
      LETHE_API_KEYS: API_KEY,
      LETHE_PORT: String(apiPort),
      LETHE_TOKEN_SECRET: 'sql-processes-secret-sql-processes-secret',
      LETHE_CODEC_SECRET: 'sql-processes-codec-secret-sql-processes',
      LETHE_ENCRYPTION_KEYS: `processes:${newEncryptionKey()}`,
      LETHE_WORKFLOW_BUNDLE: bundleFile,
      LETHE_WORKER_HEALTH_PORT: String(healthPort),
      PROCESSES_POSTGRES_URL: postgres.url('processes'),
      PROCESSES_MYSQL_URL: mariadb.url('processes'),
      PROCESSES_HASH_KEY: HASH_KEY,
      LOG_LEVEL: 'error',
    };
    api = startLetheProcess('api', env);
    await untilPortOpen(apiPort, 'the API', { timeoutMs: 60_000 });
    await startWorker();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    lethe = new LetheApi({ apiUrl });
  });

  after(async function () {
    this.timeout(60_000);
    if (worker) await stopProcess(worker, 'SIGKILL');
    if (api) await stopProcess(api);
    await temporal?.stop();
    for (const db of Object.values(dbs)) await db.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  const request = async (email: string, integration: string) => {
    const res = await fetch(`${apiUrl}/v1/requests`, {
      method: 'POST',
      headers: { 'X-Authorization': API_KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        type: 'deletion',
        auto_process: true,
        subject: { email },
        integrations: [integration],
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { id: string }).id;
  };

  for (const d of ['postgres', 'mysql'] as const) {
    it(`${d}: a worker killed with SIGKILL mid-deletion is replaced; nothing is erased twice and the count is what access found`, async () => {
      const db = dbs[d]!;
      const email = `killed-${d}@example.com`;
      const rows = await seedPerson(db, email, { addresses: 3, orders: 1500, items: 4, tickets: 3 });
      const id = await request(email, `killed-${d}`);
      await lethe.untilIntegration(
        id,
        `killed-${d}`,
        'access',
        { state: 'Complete', detail: `${total(rows)} records found` },
        60_000,
      );
      // Killed once some order items are gone, long before the last (6,000 of them, 50 a batch).
      await eventually(
        () => rowsOf(db, email),
        (now) => now.order_items < rows.order_items - 500,
        { what: 'the deletion to be under way', timeoutMs: 60_000, intervalMs: 20 },
      );
      await stopProcess(worker!, 'SIGKILL');
      const between = await rowsOf(db, email);
      assert.ok(
        between.order_items > 0 && between.users === 1,
        `killed part-way: ${JSON.stringify(between)}`,
      );
      await startWorker();
      const done = await lethe.until(id, (r) => r.closed, 'the deletion to finish', 120_000);
      assert.deepEqual(phaseOf(done, `killed-${d}`, 'deletion'), {
        state: 'Complete',
        detail: `${total(rows)} records deleted`,
      });
      const hash = createHmac('sha256', HASH_KEY).update(email).digest('hex');
      // The user row is masked once: the hash of the email (a second pass would leave it as it is).
      assert.deepEqual(await rowsOf(db, email, hash), { ...NONE, users: 1 });
      assert.equal((await db('users').where('email', hash).first()).name, null);
      assert.deepEqual(await rowsOf(db, email), NONE);
    });

    it(`${d}: 100,000 rows for one subject are found and erased by a worker whose memory stays bounded`, async () => {
      const db = dbs[d]!;
      const email = `large-${d}@example.com`;
      // 1 user, 1,000 addresses, 33,000 orders of two items: 100,000 rows, 99,999 of them children.
      const rows = await seedPerson(db, email, { addresses: 999, orders: 33_000, items: 2, tickets: 0 });
      assert.equal(total(rows), 100_000);
      // A fresh worker, so its peak is this request's.
      await stopProcess(worker!, 'SIGKILL');
      const fresh = await startWorker();
      const idle = memoryOf(fresh.pid!);
      const id = await request(email, `large-${d}`);
      const done = await lethe.until(id, (r) => r.closed, 'the large deletion', 180_000);
      assert.deepEqual(phaseOf(done, `large-${d}`, 'access'), {
        state: 'Complete',
        detail: '100000 records found',
      });
      assert.deepEqual(phaseOf(done, `large-${d}`, 'deletion'), {
        state: 'Complete',
        detail: '100000 records deleted',
      });
      assert.deepEqual(await rowsOf(db, email), NONE);
      const peak = memoryOf(fresh.pid!).peakMb;
      // Streamed: the worker never holds the 100,000 rows (some 30 MB of JSON) at once, nor their keys.
      assert.ok(
        peak - idle.rssMb < 120,
        `the worker grew by ${(peak - idle.rssMb).toFixed(0)} MB (idle ${idle.rssMb.toFixed(0)} MB, peak ${peak.toFixed(0)} MB)`,
      );
      console.log(`      ${d}: worker RSS ${idle.rssMb.toFixed(0)} MB idle, peak ${peak.toFixed(0)} MB`);
    });
  }
});
