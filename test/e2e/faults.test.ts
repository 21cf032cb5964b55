import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { composeApi } from '../../src/api/compose';
import { loadEnvironment } from '../../src/config/environment';
import { loadIntegrationsFile } from '../../src/config/integrations-file';
import { createLogger } from '../../src/infra/logger';
import { newEncryptionKey } from '../../src/infra/payload-codec';
import { createSandboxCrm } from '../../src/sandbox/crm';
import {
  exited,
  freePort,
  startLetheProcess,
  stopProcess,
  TemporalDevServer,
  untilPortOpen,
  untilReady,
} from '../../scripts/processes';
import { LetheApi, phaseOf } from '../support/lethe';
import { workflowBundle } from '../support/stack';

const TOKEN = 'fault-crm-token';
const TOKEN_SECRET = 'fault-secret-fault-secret-fault-secret-01';
const CODEC_SECRET = 'fault-codec-secret-fault-codec-secret-01';
const ENCRYPTION_KEYS = `fault:${newEncryptionKey()}`;

/**
 * The product as separate processes, under fire: a worker killed with SIGKILL at random moments,
 * the Temporal dev server restarted on its SQLite file mid-run, and a CRM that fails 30% of calls
 * with transient errors. Every request must still end right, and no record deleted twice.
 */
describe('fault injection: kill -9, a Temporal restart, 30% transient errors', function () {
  this.timeout(300_000);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-faults-'));
  const crm = createSandboxCrm({ token: TOKEN, seed: [] });
  const log = createLogger('faults', 'error');
  let temporal: TemporalDevServer;
  let connection: Connection;
  let crmServer: http.Server;
  let apiServer: http.Server;
  let worker: ChildProcess | undefined;
  let workerEnv: NodeJS.ProcessEnv;
  let healthPort: number;
  let lethe: LetheApi;
  /** Integration errors counted by each worker before it was killed. */
  const errorsSeen: number[] = [];

  const listen = async (server: http.Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  async function startWorker(): Promise<void> {
    worker = startLetheProcess('worker', workerEnv);
    await untilReady(`http://127.0.0.1:${healthPort}/readyz`, 'the worker', { timeoutMs: 30_000 });
  }

  /** What the worker's /metrics says of integration errors so far. */
  async function workerErrors(): Promise<number> {
    const text = await fetch(`http://127.0.0.1:${healthPort}/metrics`)
      .then((r) => r.text())
      .catch(() => '');
    return [...text.matchAll(/^lethe_integration_errors_total\{[^}]*\} (\d+)/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
  }

  before(async function () {
    this.timeout(120_000);
    temporal = new TemporalDevServer(await freePort(), path.join(scratch, 'temporal.db'));
    await temporal.start();
    crmServer = http.createServer(crm.app);
    const crmUrl = await listen(crmServer);
    const crmIntegration = (id: string, by: 'email' | 'phone', paged: boolean) => ({
      id,
      name: `CRM by ${by}`,
      type: 'api',
      connector: 'http',
      options: {
        base_url: crmUrl,
        timeout: '5s',
        auth: { type: 'bearer', token_env: 'FAULT_CRM_TOKEN' },
        find: {
          path: '/contacts',
          query: { [by]: `{{subject.${by}}}` },
          records_path: 'data',
          ...(paged ? { pagination: { type: 'page', size: 2 } } : {}),
        },
        delete_record: { path: '/contacts/{{record.id}}' },
      },
      // 30% transient failures: patient retries, short waits.
      retry: { initial_interval: '100ms', max_interval: '1s', max_attempts: 60 },
    });
    const configFile = path.join(scratch, 'integrations.json');
    const config = {
      integrations: [crmIntegration('crm-email', 'email', false), crmIntegration('crm-phone', 'phone', true)],
    };
    writeFileSync(configFile, JSON.stringify(config));
    const bundleFile = path.join(scratch, 'workflows.js');
    writeFileSync(bundleFile, (await workflowBundle()).code);
    healthPort = await freePort();
    workerEnv = {
      TEMPORAL_ADDRESS: temporal.address,
      LETHE_DATA_DIR: path.join(scratch, 'data'),
      LETHE_INTEGRATIONS: configFile,
      LETHE_TOKEN_SECRET: TOKEN_SECRET,
      LETHE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
      LETHE_WORKFLOW_BUNDLE: bundleFile,
      LETHE_WORKER_HEALTH_PORT: String(healthPort),
      FAULT_CRM_TOKEN: TOKEN,
      LOG_LEVEL: 'error',
    };

    connection = await Connection.connect({ address: temporal.address });
    apiServer = http.createServer();
    const apiUrl = await listen(apiServer);
    // The API as its process would make it, on the worker's data folder and secrets.
    const apiEnvironment = loadEnvironment({
      ...workerEnv,
      LETHE_API_KEYS: 'test-key',
      LETHE_CODEC_SECRET: CODEC_SECRET,
      LETHE_PUBLIC_URL: apiUrl,
      LETHE_CODEC_ORIGINS: '',
      LETHE_RATE_LIMIT: '1000000',
      LETHE_PUBLIC_RATE_LIMIT: '1000000',
      LETHE_FAILED_KEY_LIMIT: '1000000',
    });
    const apiConfig = loadIntegrationsFile(apiEnvironment.integrationsFile);
    apiServer.on(
      'request',
      createApp(composeApi({ environment: apiEnvironment, config: apiConfig, connection, log })),
    );
    lethe = new LetheApi({ apiUrl });
    await startWorker();
  });

  after(async function () {
    this.timeout(60_000);
    if (worker) await stopProcess(worker, 'SIGKILL');
    await new Promise((resolve) => apiServer?.close(resolve));
    crmServer?.closeAllConnections();
    await new Promise((resolve) => crmServer?.close(resolve));
    await connection?.close();
    await temporal?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('20 deletion requests end with every record deleted exactly once, through 20 kills and a server restart', async () => {
    const REQUESTS = 20;
    const subjects = Array.from({ length: REQUESTS }, (_, i) => ({
      email: `fault-${i}@example.com`,
      phone: `+1555000${String(i).padStart(4, '0')}`,
    }));
    for (const [i, subject] of subjects.entries()) {
      for (let r = 0; r < 3; r++) {
        crm.contacts.set(`c_e${i}_${r}`, { id: `c_e${i}_${r}`, email: subject.email });
        crm.contacts.set(`c_p${i}_${r}`, { id: `c_p${i}_${r}`, phone: subject.phone });
      }
    }
    crm.chaos.rate = 0.3;
    const ids: string[] = [];
    for (const subject of subjects) {
      ids.push((await lethe.create({ type: 'deletion', auto_process: true, subject })).id);
    }

    for (let trial = 1; trial <= 20; trial++) {
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 1300));
      errorsSeen.push(await workerErrors());
      await stopProcess(worker!, 'SIGKILL');
      if (trial === 10) {
        // Mid-run, the Temporal server itself goes down and comes back on the same file.
        await temporal.stop();
        await temporal.start();
      }
      await startWorker();
    }

    const closed = await Promise.all(
      ids.map((id) => lethe.until(id, (r) => r.closed, `${id} to close`, 180_000)),
    );
    crm.chaos.rate = 0;
    for (const request of closed) {
      assert.equal(request.state, 'Data deleted');
      for (const integration of ['crm-email', 'crm-phone']) {
        assert.deepEqual(phaseOf(request, integration, 'access'), {
          state: 'Complete',
          detail: '3 records found',
        });
        assert.deepEqual(phaseOf(request, integration, 'deletion'), {
          state: 'Complete',
          detail: '3 records deleted',
        });
      }
    }
    assert.equal(crm.contacts.size, 0, 'every record is gone');
    const deletes = new Map<string, number[]>();
    for (const c of crm.calls.filter((c) => c.method === 'DELETE')) {
      deletes.set(c.path, [...(deletes.get(c.path) ?? []), c.status]);
    }
    assert.equal(deletes.size, REQUESTS * 6);
    for (const [record, statuses] of deletes) {
      const succeeded = statuses.indexOf(204);
      assert.ok(succeeded >= 0, `${record} was deleted`);
      assert.deepEqual(
        statuses.slice(succeeded + 1),
        [],
        `${record}: a delete sent again after it succeeded`,
      );
    }
    const transient = crm.calls.filter((c) => [0, 429, 502, 503, 504].includes(c.status)).length;
    assert.ok(transient > 20, `${transient} transient failures were injected`);
    assert.ok(
      errorsSeen.reduce((a, b) => a + b, 0) > 0,
      'the workers counted integration errors in /metrics',
    );
  });

  it('SIGTERM: the worker drains and exits 0', async () => {
    const started = Date.now();
    const done = exited(worker!);
    worker!.kill('SIGTERM');
    await done;
    assert.equal(worker!.exitCode, 0);
    assert.ok(Date.now() - started < 15_000, 'within the shutdown grace');
    worker = undefined;
  });

  it('SIGTERM: the API answers the request in flight, closes idle connections and exits 0', async () => {
    const port = await freePort();
    const api = startLetheProcess('api', {
      ...workerEnv,
      LETHE_API_KEYS: 'test-key',
      LETHE_PORT: String(port),
    });
    await untilPortOpen(port, 'the API');
    const body = JSON.stringify({ type: 'access', subject: { email: 'late@example.com' } });
    const agent = new http.Agent({ keepAlive: true });
    // An idle keep-alive connection must not hold the API up.
    await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.text());
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/v1/requests',
          agent,
          headers: {
            'X-Authorization': 'test-key',
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on('error', reject);
      // Half the body now, the rest after the signal: the request is in flight when it comes.
      req.write(body.slice(0, 10));
      setTimeout(() => {
        api.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 500);
      }, 300);
    });
    const { status, text } = await answer;
    assert.equal(status, 201, text);
    const answered = Date.now();
    await exited(api);
    agent.destroy();
    assert.equal(api.exitCode, 0);
    const tookMs = Date.now() - answered;
    assert.ok(tookMs < 3000, `exited ${tookMs} ms after its last answer, its connection still open`);
    const id = (JSON.parse(text) as { id: string }).id;
    assert.ok(id.startsWith('req_'));
  });
});
