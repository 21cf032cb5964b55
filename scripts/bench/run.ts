/**
 * `npm run bench`: Lethe at scale, measured against the engine's own limit.
 *
 *   npm run bench -- --requests 500 --integrations 10 --waiting 10000
 *   npm run bench -- --sql --rows 100000 --dialect both   (the sql connector: scripts/bench/sql.ts)
 *
 * Starts a Temporal dev server (in memory), M sandbox CRMs, a Lethe worker and API (separate
 * processes), and a baseline worker; submits N deletion requests with M API integrations each,
 * and the same shape of work with no product logic (the baseline); loads the API from this
 * process at a steady rate; parks W requests on owners. Prints what it measured.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import {
  encryptedDataConverter,
  FAILURE_CONVERTER_PATH,
  parseEncryptionKeys,
} from '../../src/infra/payload-codec';
import { PrivacyRequestWorkflow } from '../../src/workflows';
import { createSandboxCrm, type SandboxCrm } from '../../src/sandbox/crm';
import { BaselineRequestWorkflow, type BaselineShape } from './baseline-workflows';
import { BENCH_API_KEY, startBenchLethe } from './lethe';
import { runSqlBench } from './sql';
import { freePort, stopProcess, TemporalDevServer } from '../processes';

const ROOT = path.resolve(__dirname, '../..');
const CRM_TOKEN = 'bench-crm-token';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '500' },
    integrations: { type: 'string', default: '10' },
    records: { type: 'string', default: '2' },
    waiting: { type: 'string', default: '10000' },
    /** The sql connector's bench instead (scripts/bench/sql.ts). */
    sql: { type: 'boolean', default: false },
    rows: { type: 'string', default: '100000' },
    dialect: { type: 'string', default: 'both' },
  },
});
const N = Number(args.requests);
const M = Number(args.integrations);
const RECORDS = Number(args.records);
const WAITING = Number(args.waiting);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const ms = (value: number) =>
  value < 10_000 ? `${value.toFixed(value < 10 ? 1 : 0)} ms` : `${(value / 1000).toFixed(0)} s`;

/** Runs `work` over `items`, `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/** Runs `work` `perSecond` times a second for `seconds`, whether or not earlier runs are done; their durations. */
async function atRate(perSecond: number, seconds: number, work: () => Promise<void>): Promise<number[]> {
  const durations: number[] = [];
  const runs: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < perSecond * seconds; i++) {
    await sleep(start + (i * 1000) / perSecond - performance.now());
    const started = performance.now();
    runs.push(work().then(() => void durations.push(performance.now() - started)));
  }
  await Promise.all(runs);
  return durations;
}

/** Kilobytes of a process's memory, from /proc: VmRSS now, VmHWM its peak. */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: field('VmRSS'), peakMb: field('VmHWM') };
}

/** Workflow tasks that timed out in a history: on a sticky queue, the worker did not take them within 10 s. */
function timedOutTasksIn(events: { workflowTaskTimedOutEventAttributes?: unknown }[]): number {
  return events.filter((e) => e.workflowTaskTimedOutEventAttributes).length;
}

/** CPU seconds (user + system) a process has used so far, from /proc: fields 14 and 15, in clock ticks. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main() {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-'));
  const children: ChildProcess[] = [];
  const servers: http.Server[] = [];
  const temporal = new TemporalDevServer(await freePort());
  try {
    console.log(
      `Lethe bench: ${N} deletion requests × ${M} API integrations, ${WAITING} requests waiting on owners`,
    );
    await temporal.start();

    const crms: SandboxCrm[] = [];
    const crmUrls: string[] = [];
    for (let i = 0; i < M; i++) {
      const crm = createSandboxCrm({ token: CRM_TOKEN, seed: [] });
      const server = http.createServer(crm.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      crms.push(crm);
      servers.push(server);
      crmUrls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    const integrationIds = crmUrls.map((_, i) => `bench-${i + 1}`);
    const configFile = path.join(scratch, 'integrations.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        integrations: [
          ...crmUrls.map((url, i) => ({
            id: integrationIds[i],
            name: `Bench CRM ${i + 1}`,
            type: 'api',
            connector: 'http',
            options: {
              base_url: url,
              auth: { type: 'bearer', token_env: 'BENCH_CRM_TOKEN' },
              find: { path: '/contacts', query: { email: '{{subject.email}}' }, records_path: 'data' },
              delete_record: { path: '/contacts/{{record.id}}' },
            },
          })),
          {
            id: 'owner',
            name: 'Bench owner',
            type: 'direct_contact',
            owner: { name: 'Bench Owner', email: 'owner@example.com' },
          },
        ],
      }),
    );

    // What runs is what ships: Lethe as `npm run build` leaves it, the baseline's worker compiled
    // alike, both on plain node (through tsx, source maps make every workflow promise dearer).
    process.stdout.write('building… ');
    const tsc = path.join(ROOT, 'node_modules/.bin/tsc');
    execFileSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    const baselineWorkerDir = path.join(scratch, 'baseline-worker');
    execFileSync(
      tsc,
      [
        ...['--outDir', baselineWorkerDir, '--module', 'commonjs', '--target', 'es2022'],
        ...['--strict', '--skipLibCheck', '--types', 'node'],
        path.join(ROOT, 'scripts/bench/baseline-worker.ts'),
      ],
      { cwd: ROOT, stdio: 'inherit' },
    );
    console.log('done');

    process.stdout.write('bundling workflows… ');
    const productBundle = path.join(scratch, 'lethe-workflows.js');
    const baselineBundle = path.join(scratch, 'baseline-workflows.js');
    writeFileSync(
      productBundle,
      (
        await bundleWorkflowCode({
          workflowsPath: path.join(ROOT, 'src/workflows'),
          failureConverterPath: FAILURE_CONVERTER_PATH,
        })
      ).code,
    );
    writeFileSync(
      baselineBundle,
      (await bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'scripts/bench/baseline-workflows.ts') }))
        .code,
    );
    console.log('done');

    const { env, worker, api, apiUrl } = await startBenchLethe({
      temporalAddress: temporal.address,
      scratch,
      integrationsFile: configFile,
      workflowBundle: productBundle,
      extra: { BENCH_CRM_TOKEN: CRM_TOKEN, BASELINE_BUNDLE: baselineBundle },
      children,
    });
    const baselineWorker = spawn(process.execPath, [path.join(baselineWorkerDir, 'baseline-worker.js')], {
      cwd: ROOT,
      env: { ...process.env, ...env, NODE_PATH: path.join(ROOT, 'node_modules') },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(baselineWorker);
    const processes = {
      'dev server': temporal.pid!,
      'Lethe worker': worker.pid!,
      'Lethe API': api.pid!,
      'baseline worker': baselineWorker.pid!,
      'bench (CRMs, load)': process.pid,
    };
    const cpuNow = () =>
      Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
    let cpuBefore = cpuNow();
    /** CPU seconds each process used since the last call. */
    const cpuSince = () => {
      const now = cpuNow();
      const used = Object.entries(now)
        .map(([name, seconds]) => `${name} ${(seconds - (cpuBefore[name] ?? 0)).toFixed(0)}`)
        .join(', ');
      cpuBefore = now;
      return used;
    };
    const connection = await Connection.connect({ address: temporal.address });
    // Lethe's payloads are encrypted, the baseline's are not.
    const client = new Client({
      connection,
      dataConverter: encryptedDataConverter(parseEncryptionKeys(env.LETHE_ENCRYPTION_KEYS!)),
    });
    const baselineClient = new Client({ connection });

    /** Creates one deletion request for subject `i`, whose records every CRM holds. */
    const seedSubject = (i: number | string) => {
      for (const crm of crms) {
        for (let r = 0; r < RECORDS; r++) {
          crm.contacts.set(`c${i}_${r}`, { id: `c${i}_${r}`, email: `subject-${i}@bench.example` });
        }
      }
    };
    const createDeletion = async (i: number | string): Promise<string> => {
      const res = await fetch(`${apiUrl}/v1/requests`, {
        method: 'POST',
        headers: { 'X-Authorization': BENCH_API_KEY, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          type: 'deletion',
          auto_process: true,
          subject: { email: `subject-${i}@bench.example` },
          integrations: integrationIds,
        }),
      });
      if (res.status !== 201) throw new Error(`POST ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    /**
     * A count scans the server's visibility store, which costs the server as much as a share of the
     * work measured: asked every 2 s. Run times come from the requests' own `closed_at`, not from here.
     */
    const untilDeleted = async (count: number) => {
      const query = `WorkflowType = '${PrivacyRequestWorkflow.name}' AND LetheRequestState = 'Data deleted'`;
      while ((await client.workflow.count(query)).count < count) await sleep(2000);
    };
    /** A request's history: events and activities of the request workflow and of its integrations'. */
    const historyOf = async (id: string) => {
      const shape = {
        requestEvents: 0,
        requestActivities: 0,
        integrationEvents: 0,
        integrationActivities: 0,
        /** Workflow tasks a busy worker did not take in time, run again from the whole history. */
        timedOutTasks: 0,
      };
      const children = integrationIds.flatMap((iid) => [`${id}/${iid}/access`, `${id}/${iid}/deletion`]);
      for (const workflowId of [id, ...children]) {
        const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        const activities = events.filter((e) => e.activityTaskScheduledEventAttributes).length;
        shape.timedOutTasks += timedOutTasksIn(events);
        if (workflowId === id) {
          shape.requestEvents += events.length;
          shape.requestActivities += activities;
        } else {
          shape.integrationEvents += events.length;
          shape.integrationActivities += activities;
        }
      }
      return shape;
    };

    // 1. One request first: it warms everything up, and gives the baseline its shape.
    seedSubject('warmup');
    const warmupId = await createDeletion('warmup');
    await untilDeleted(1);
    const warmup = await historyOf(warmupId);
    const shape: BaselineShape = {
      integrations: M,
      activitiesPerChild: Math.round(warmup.integrationActivities / (2 * M)),
      activitiesPerRequest: warmup.requestActivities,
    };

    // 2. The baseline: the same children and activities, no product logic.
    process.stdout.write(
      `baseline: ${N} workflows × ${M} children × 2 phases × ${shape.activitiesPerChild} activities… `,
    );
    cpuSince();
    const baselineStart = Date.now();
    const handles: Promise<void>[] = [];
    await pool(
      Array.from({ length: N }, (_, i) => i),
      50,
      async (i) => {
        const handle = await baselineClient.workflow.start(BaselineRequestWorkflow, {
          taskQueue: 'bench-baseline',
          workflowId: `baseline-${i}-${baselineStart}`,
          args: [shape],
        });
        // Awaited together below; a failure meanwhile must not escape as an unhandled rejection.
        const result = handle.result();
        result.catch(() => undefined);
        handles.push(result);
      },
    );
    await Promise.all(handles);
    const baselineSeconds = (Date.now() - baselineStart) / 1000;
    const baselineCpu = cpuSince();
    const baselineHistories = await Promise.all(
      Array.from({ length: Math.min(10, N) }, async (_, i) => {
        const handle = baselineClient.workflow.getHandle(`baseline-${i}-${baselineStart}`);
        return (await handle.fetchHistory()).events ?? [];
      }),
    );
    const baselineEvents = baselineHistories.map((events) => events.length);
    const baselineTimedOut = baselineHistories.reduce((sum, events) => sum + timedOutTasksIn(events), 0);
    const baselineRate = N / baselineSeconds;
    console.log(`${baselineSeconds.toFixed(1)} s`);

    // The baseline's activities leave start-to-close timers (1 minute) that the server still fires,
    // as no-ops, after they ended: they are the baseline's work, not to be counted in Lethe's run.
    await sleep(65_000);
    const pauseCpu = cpuSince();

    // 3. Lethe: N deletion requests through the API, M CRMs each holding RECORDS records per subject.
    for (let i = 0; i < N; i++) seedSubject(i);
    process.stdout.write(`lethe: ${N} deletion requests… `);
    const postLatencies: number[] = [];
    const ids: string[] = [];
    const productStart = Date.now();
    await pool(
      Array.from({ length: N }, (_, i) => i),
      20,
      async (i) => {
        const started = performance.now();
        ids.push(await createDeletion(i));
        postLatencies.push(performance.now() - started);
      },
    );
    await untilDeleted(N + 1);
    const productCpu = cpuSince();
    const afterRun = memoryOf(worker.pid!);

    const perRequest: number[] = [];
    let lastClosed = 0;
    let wrong = 0;
    await pool(ids, 20, async (id) => {
      const view = (await (
        await fetch(`${apiUrl}/v1/requests/${id}`, { headers: { 'X-Authorization': BENCH_API_KEY } })
      ).json()) as {
        request_date: string;
        closed_at: string;
        integrations: { deletion: { detail: string } }[];
      };
      perRequest.push(Date.parse(view.closed_at) - Date.parse(view.request_date));
      lastClosed = Math.max(lastClosed, Date.parse(view.closed_at));
      if (view.integrations.some((i) => i.deletion.detail !== `${RECORDS} records deleted`)) wrong += 1;
    });
    const left = crms.reduce((sum, crm) => sum + crm.contacts.size, 0);
    const productSeconds = (lastClosed - productStart) / 1000;
    const productRate = N / productSeconds;
    console.log(`${productSeconds.toFixed(1)} s`);

    // History sizes and activity counts, from a sample of requests.
    const sample = await Promise.all(ids.slice(0, Math.min(10, ids.length)).map(historyOf));
    const average = (pick: (h: (typeof sample)[number]) => number) =>
      sample.reduce((sum, h) => sum + pick(h), 0) / sample.length;
    const activitiesPerRequest = average((h) => h.requestActivities + h.integrationActivities);

    // 4. The API under load from this process: GET status at 100/s, POST at 20/s; and, to see what
    // the API adds, the same reads straight from Temporal (a closed request's GET reads its memo:
    // a describe; querying its completed workflow would have a worker replay it each time).
    const randomId = () => ids[Math.floor(Math.random() * ids.length)] as string;
    const describeLatencies = await atRate(100, 10, async () => {
      await client.workflow.getHandle(randomId()).describe();
    });
    // Evenly spaced, whatever the answers' pace (autocannon's rate comes in bursts at each second).
    let failedCalls = 0;
    const timed = async (path: string, init: RequestInit = {}) => {
      try {
        const res = await fetch(`${apiUrl}${path}`, {
          ...init,
          headers: { 'X-Authorization': BENCH_API_KEY, 'Content-Type': 'application/json' },
        });
        await res.arrayBuffer();
        if (!res.ok) failedCalls += 1;
      } catch {
        failedCalls += 1;
      }
    };
    const getLatencies = await atRate(100, 10, () => timed(`/v1/requests/${randomId()}`));
    let posted = 0;
    const postLoadLatencies = await atRate(20, 10, () =>
      timed('/v1/requests', {
        method: 'POST',
        body: JSON.stringify({
          type: 'access',
          subject: { email: `load-${posted++}@bench.example` },
          integrations: [integrationIds[0]],
        }),
      }),
    );

    // 5. Requests parked on owners: the worker's memory with that many open workflows.
    const outbox = path.join(scratch, 'data', 'outbox');
    const mailed = () => {
      try {
        // One folder per request.
        return readdirSync(outbox, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.eml'))
          .length;
      } catch {
        return 0;
      }
    };
    let waitingMemory = { rssMb: NaN, peakMb: NaN };
    if (WAITING > 0) {
      process.stdout.write(`parking ${WAITING} requests on an owner… `);
      const before = mailed();
      const waitStart = Date.now();
      await pool(
        Array.from({ length: WAITING }, (_, i) => i),
        50,
        async (i) => {
          const res = await fetch(`${apiUrl}/v1/requests`, {
            method: 'POST',
            headers: { 'X-Authorization': BENCH_API_KEY, 'Content-Type': 'application/json' },
            body: JSON.stringify({
              type: 'access',
              subject: { email: `waiting-${i}@bench.example` },
              integrations: ['owner'],
            }),
          });
          if (res.status !== 201) throw new Error(`POST ${res.status}: ${await res.text()}`);
        },
      );
      while (mailed() - before < WAITING) await sleep(500);
      await sleep(2000);
      waitingMemory = memoryOf(worker.pid!);
      console.log(`${((Date.now() - waitStart) / 1000).toFixed(1)} s`);
    }

    const check = (ok: boolean) => (ok ? '✓' : '✗');
    const eventsPerIntegration = average((h) => h.integrationEvents) / M;
    const ratio = productRate / baselineRate;
    const getP99 = percentile(getLatencies, 99);
    console.log(`
Results (${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GB)
  end to end          ${productRate.toFixed(1)} requests/s (${N} requests in ${productSeconds.toFixed(1)} s); ${wrong} with a wrong final state, ${left} records left
  per request         p50 ${ms(percentile(perRequest, 50))}, p99 ${ms(percentile(perRequest, 99))}
  activities          ${((N * activitiesPerRequest) / productSeconds).toFixed(0)}/s (${activitiesPerRequest.toFixed(0)} per request)
  history events      ${average((h) => h.requestEvents).toFixed(0)} per request workflow (baseline ${(baselineEvents.reduce((a, b) => a + b, 0) / baselineEvents.length).toFixed(0)}), ${eventsPerIntegration.toFixed(1)} per API integration (access + deletion)  ${check(eventsPerIntegration <= 40)} ≤ 40
                      alone (the warm-up): ${warmup.requestEvents} per request workflow; workflow tasks timed out in ${sample.length} requests: ${sample.reduce((sum, h) => sum + h.timedOutTasks, 0)} (baseline ${baselineTimedOut}, request workflows only)
  baseline            ${baselineRate.toFixed(1)} requests/s (${N} in ${baselineSeconds.toFixed(1)} s)
  ratio               ${ratio.toFixed(2)} product/baseline  ${check(ratio >= 0.8)} ≥ 0.8
  CPU seconds         baseline run: ${baselineCpu}
                      pause between them (65 s): ${pauseCpu}
                      Lethe run: ${productCpu}
  worker memory       peak ${afterRun.peakMb.toFixed(0)} MB during the run; with ${WAITING} requests waiting on owners: ${waitingMemory.rssMb.toFixed(0)} MB now, ${waitingMemory.peakMb.toFixed(0)} MB peak
  API POST (create)   ${N} sequential-ish creates: p50 ${ms(percentile(postLatencies, 50))}, p99 ${ms(percentile(postLatencies, 99))}; at 20/s: p50 ${ms(percentile(postLoadLatencies, 50))}, p99 ${ms(percentile(postLoadLatencies, 99))}
  API GET status      at 100/s: p50 ${ms(percentile(getLatencies, 50))}, p99 ${ms(getP99)} (${getLatencies.length} requests; ${failedCalls} GET or POST not 2xx)  ${check(getP99 < 50)} p99 < 50 ms
  Temporal describe   at 100/s, straight from a client: p50 ${ms(percentile(describeLatencies, 50))}, p99 ${ms(percentile(describeLatencies, 99))}
`);
    await connection.close();
  } finally {
    for (const child of children.reverse()) await stopProcess(child);
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await temporal.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

(args.sql ? runSqlBench({ rows: Number(args.rows), dialect: args.dialect }) : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
