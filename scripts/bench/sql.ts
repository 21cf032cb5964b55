/**
 * `npm run bench -- --sql [--rows 100000] [--dialect postgres|mysql|both]`: the sql connector on
 * one subject with `rows` rows across the five-table chain of the tests (users ← addresses,
 * users ← orders ← order_items, ON DELETE RESTRICT), on a real server. A deletion request finds
 * them all, then erases them all; prints rows per second found and erased, and the worker's peak
 * RSS meanwhile (VmHWM, the worker being a process of its own, as it ships).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import knex, { type Knex } from 'knex';
import { FAILURE_CONVERTER_PATH } from '../../src/infra/payload-codec';
import { createSchema, rowsOf, seedPerson } from '../../test/support/sql-shop';
import { MariaDbServer, PostgresServer, type DatabaseServer } from '../databases';
import { freePort, stopProcess, TemporalDevServer } from '../processes';
import { BENCH_API_KEY, startBenchLethe } from './lethe';

const ROOT = path.resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: field('VmRSS'), peakMb: field('VmHWM') };
}

/** The chain's sizes for about `rows` rows: 1 user, 1% addresses, a third orders, two items an order. */
function sizesFor(rows: number) {
  const orders = Math.floor((rows - 1) / 3.03);
  const addresses = rows - 1 - orders * 3;
  return { addresses, orders, items: 2, tickets: 0 };
}

interface Measured {
  dialect: string;
  rows: number;
  seedSeconds: number;
  findSeconds: number;
  eraseSeconds: number;
  idleRssMb: number;
  peakRssMb: number;
  left: number;
}

async function benchOne(
  dialect: 'postgres' | 'mysql',
  rows: number,
  built: { bundle: string },
): Promise<Measured> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-sql-'));
  const temporal = new TemporalDevServer(await freePort());
  const server: DatabaseServer =
    dialect === 'postgres' ? await PostgresServer.start() : await MariaDbServer.start();
  const children: ChildProcess[] = [];
  let db: Knex | undefined;
  try {
    await temporal.start();
    const client = dialect === 'postgres' ? 'pg' : 'mysql2';
    const admin = knex({ client, connection: server.url() });
    await admin.raw('CREATE DATABASE bench');
    await admin.destroy();
    db = knex({ client, connection: server.url('bench'), pool: { min: 0, max: 4 } });
    await createSchema(db);
    const email = 'bench.subject@example.com';
    process.stdout.write(`${dialect}: seeding ${rows} rows for one subject… `);
    const seedStart = Date.now();
    const seeded = await seedPerson(db, email, sizesFor(rows));
    await seedPerson(db, 'someone.else@example.com', { addresses: 1, orders: 10, items: 2, tickets: 1 });
    // Statistics, as a database in use has them: the planner's choice for the subqueries depends on them.
    if (dialect === 'postgres') await db.raw('ANALYZE');
    else
      for (const table of ['users', 'addresses', 'orders', 'order_items', 'support_tickets'])
        await db.raw('ANALYZE TABLE ??', [table]);
    const total = Object.values(seeded).reduce((a, b) => a + b, 0);
    const seedSeconds = (Date.now() - seedStart) / 1000;
    console.log(`${total} rows in ${seedSeconds.toFixed(1)} s`);

    const configFile = path.join(scratch, 'integrations.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        integrations: [
          {
            id: 'bench-sql',
            name: `Bench database (${dialect})`,
            type: 'api',
            connector: 'sql',
            options: {
              dialect,
              url_env: 'BENCH_DB_URL',
              max_rows: 10_000_000,
              tables: [
                { name: 'users', match: { email: 'subject.email' } },
                { name: 'addresses', match: { user_id: 'users.id' } },
                { name: 'orders', match: { user_id: 'users.id' } },
                { name: 'order_items', match: { order_id: 'orders.id' } },
                { name: 'support_tickets', match: { email: 'subject.email' } },
              ],
            },
          },
        ],
      }),
    );
    const { worker, apiUrl } = await startBenchLethe({
      temporalAddress: temporal.address,
      scratch,
      integrationsFile: configFile,
      workflowBundle: built.bundle,
      extra: { BENCH_DB_URL: server.url('bench') },
      children,
    });
    await sleep(2000);
    const idle = memoryOf(worker.pid!);

    const created = await fetch(`${apiUrl}/v1/requests`, {
      method: 'POST',
      headers: { 'X-Authorization': BENCH_API_KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        type: 'deletion',
        auto_process: true,
        subject: { email },
        integrations: ['bench-sql'],
      }),
    });
    if (created.status !== 201) throw new Error(`POST ${created.status}: ${await created.text()}`);
    const { id } = (await created.json()) as { id: string };
    const started = Date.now();
    type View = {
      closed: boolean;
      integrations: {
        access: { state: string; detail: string };
        deletion: { state: string; detail: string };
      }[];
    };
    let found: number | undefined;
    let view: View;
    for (;;) {
      view = (await (
        await fetch(`${apiUrl}/v1/requests/${id}`, { headers: { 'X-Authorization': BENCH_API_KEY } })
      ).json()) as View;
      const integration = view.integrations[0]!;
      if (found === undefined && integration.access.state === 'Complete') found = Date.now();
      if (integration.access.state === 'Error' || integration.deletion.state === 'Error')
        throw new Error(`bench-sql failed: ${JSON.stringify(integration)}`);
      if (view.closed) break;
      await sleep(25);
    }
    const erased = Date.now();
    const integration = view.integrations[0]!;
    if (
      integration.access.detail !== `${total} records found` ||
      integration.deletion.detail !== `${total} records deleted`
    )
      throw new Error(`unexpected states: ${JSON.stringify(integration)}`);
    const peak = memoryOf(worker.pid!);
    const left = Object.values(await rowsOf(db, email)).reduce((a, b) => a + b, 0);
    return {
      dialect,
      rows: total,
      seedSeconds,
      findSeconds: ((found ?? erased) - started) / 1000,
      eraseSeconds: (erased - (found ?? started)) / 1000,
      idleRssMb: idle.rssMb,
      peakRssMb: peak.peakMb,
      left,
    };
  } finally {
    for (const child of children.reverse()) await stopProcess(child);
    await db?.destroy();
    await server.stop();
    await temporal.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export async function runSqlBench(options: { rows: number; dialect: string }): Promise<void> {
  const dialects = (options.dialect === 'both' ? ['postgres', 'mysql'] : [options.dialect]) as (
    'postgres' | 'mysql'
  )[];
  for (const d of dialects)
    if (d !== 'postgres' && d !== 'mysql')
      throw new Error(`--dialect: postgres, mysql or both, not ${String(d)}`);
  console.log(`Lethe bench, sql connector: one subject with ${options.rows} rows across five tables`);
  process.stdout.write('building… ');
  execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-sql-bundle-'));
  const bundle = path.join(scratch, 'lethe-workflows.js');
  writeFileSync(
    bundle,
    (
      await bundleWorkflowCode({
        workflowsPath: path.join(ROOT, 'src/workflows'),
        failureConverterPath: FAILURE_CONVERTER_PATH,
        logger: new DefaultLogger('WARN'),
      })
    ).code,
  );
  console.log('done');
  const results: Measured[] = [];
  try {
    for (const d of dialects) results.push(await benchOne(d, options.rows, { bundle }));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`\nResults (${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GB)`);
  for (const r of results) {
    console.log(
      `  ${r.dialect.padEnd(9)} ${r.rows} rows: found ${(r.rows / r.findSeconds).toFixed(0)} rows/s (${r.findSeconds.toFixed(1)} s), erased ${(r.rows / r.eraseSeconds).toFixed(0)} rows/s (${r.eraseSeconds.toFixed(1)} s); worker RSS ${r.idleRssMb.toFixed(0)} MB idle, peak ${r.peakRssMb.toFixed(0)} MB; ${r.left} rows left`,
    );
  }
}
