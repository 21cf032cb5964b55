import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  Runtime,
  DefaultLogger,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createApp, type ApiDependencies } from '../../src/api/app';
import { composeApi } from '../../src/api/compose';
import { loadEnvironment, type Environment } from '../../src/config/environment';
import { validateLetheConfig } from '../../src/config/integrations-file';
import type { LetheConfig } from '../../src/domain';
import { createLogger } from '../../src/infra/logger';
import { FAILURE_CONVERTER_PATH, newEncryptionKey } from '../../src/infra/payload-codec';
import { createSandboxBatch, type SandboxBatch } from '../../src/sandbox/batch';
import { CRM_BASIC_USER, createSandboxCrm, type SandboxCrm } from '../../src/sandbox/crm';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions';
import { createLetheWorker, type LetheWorkers } from '../../src/worker/create-worker';
import { temporalCliPath, temporalTestServerPath } from '../../scripts/temporal-binaries';
import { HostileService } from './hostile';
import { TestSmtpServer } from './smtp';
import { testIntegrations } from './integrations';
import { getShops } from './sql-shop';

export const API_KEY = 'test-key';
export const TOKEN_SECRET = 'test-secret-test-secret-test-secret-0123';
export const CODEC_SECRET = 'test-codec-secret-test-codec-secret-0123';
/** Two keys, as after a rotation: the first encrypts. */
export const ENCRYPTION_KEYS = `test-2:${newEncryptionKey()},test-1:${newEncryptionKey()}`;
export const CRM_TOKEN = 'test-crm-token';
export const BATCH_API_KEY = 'test-batch-api-key';
export const BATCH_REST_KEY = 'test-batch-rest-key';

// Activities fail on purpose in these tests; the worker's own warnings would drown the report.
Runtime.install({ logger: new DefaultLogger('ERROR') });

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow code, bundled once per test run and shared by every worker the tests start. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An address where nothing listens: a port that was free a moment ago. */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  const url = await listen(server);
  await close(server);
  return url;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export type ServerKind = 'dev' | 'time-skipping';

export async function startTemporal(kind: ServerKind): Promise<TestWorkflowEnvironment> {
  if (kind === 'dev') {
    return TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        searchAttributes: SEARCH_ATTRIBUTES,
      },
    });
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  const keyword = proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((key) => [key.name, keyword])),
  });
  return env;
}

/**
 * The whole product on real things: a Temporal server (the dev server, or the time-skipping test
 * server where days must pass), a worker, the HTTP API, a real SMTP server and the sandbox CRM,
 * each on 127.0.0.1.
 */
export class Stack {
  temporal!: TestWorkflowEnvironment;
  /** The client the API uses: with Lethe's payload codec. */
  client!: Client;
  environment!: Environment;
  config!: LetheConfig;
  crm!: SandboxCrm;
  crmUrl!: string;
  batch!: SandboxBatch;
  batchUrl!: string;
  apiUrl!: string;
  /** What the stack's API is made of: a test that needs another API on the same things changes a few. */
  apiDependencies!: ApiDependencies;
  smtp = new TestSmtpServer();
  readonly hostile = new HostileService();
  private worker?: { worker: LetheWorkers; running: Promise<void> };
  private servers: http.Server[] = [];
  readonly dataDir = mkdtempSync(path.join(os.tmpdir(), 'lethe-test-'));
  /** Every product log line of the run, so a test can check what the logs would have told. */
  readonly logLines: string[] = [];
  // Printed from warn up, or as asked: LOG_LEVEL=info make test.
  readonly log = createLogger(
    'test',
    'debug',
    pino.multistream([
      { level: 'debug', stream: { write: (line: string) => void this.logLines.push(line) } },
      { level: (process.env.LOG_LEVEL ?? 'warn') as pino.Level, stream: process.stdout },
    ]),
  );

  /** `encryptionKeys`: fixed ones where histories are recorded to be replayed later (test/replay). */
  constructor(
    readonly kind: ServerKind = 'dev',
    private readonly encryptionKeys = ENCRYPTION_KEYS,
  ) {}

  async start(): Promise<void> {
    const [temporal] = await Promise.all([
      startTemporal(this.kind),
      this.smtp.start(),
      this.hostile.start(),
      workflowBundle(),
      // The sql connector's databases: the worker checks their tables and columns as it starts.
      getShops(),
    ]);
    this.temporal = temporal;

    this.crm = createSandboxCrm({ token: CRM_TOKEN });
    const crmServer = http.createServer(this.crm.app);
    this.crmUrl = await listen(crmServer);
    this.batch = createSandboxBatch({ apiKey: BATCH_API_KEY, restKey: BATCH_REST_KEY, pendingMs: 2500 });
    const batchServer = http.createServer(this.batch.app);
    this.batchUrl = await listen(batchServer);
    const apiServer = http.createServer();
    this.apiUrl = await listen(apiServer);
    this.servers.push(crmServer, batchServer, apiServer);

    const environment = loadEnvironment({
      LETHE_API_KEYS: API_KEY,
      LETHE_DATA_DIR: this.dataDir,
      LETHE_PUBLIC_URL: this.apiUrl,
      SMTP_URL: `smtp://127.0.0.1:${this.smtp.port}`,
      LETHE_TOKEN_SECRET: TOKEN_SECRET,
      LETHE_CODEC_SECRET: CODEC_SECRET,
      LETHE_ENCRYPTION_KEYS: this.encryptionKeys,
      LETHE_CODEC_ORIGINS: 'http://127.0.0.1:8233',
      // The suites call the API thousands of times; the limits have a test of their own.
      LETHE_RATE_LIMIT: '1000000',
      LETHE_PUBLIC_RATE_LIMIT: '1000000',
      LETHE_FAILED_KEY_LIMIT: '1000000',
      // The credentials the test integrations name.
      SANDBOX_CRM_TOKEN: CRM_TOKEN,
      WRONG_CRM_TOKEN: 'not-the-token',
      CRM_BASIC_USER,
      BATCH_API_KEY,
      BATCH_REST_KEY,
      BATCH_WRONG_REST_KEY: 'not-the-rest-key',
    });
    // The sql suites point SQL_* variables at databases they make as they go (getShops, a lost
    // server): read when a connector asks, as a worker reads its own environment.
    this.environment = {
      ...environment,
      connectorSecrets: (variable) =>
        environment.connectorSecrets(variable) ??
        (variable.startsWith('SQL_') ? process.env[variable] : undefined),
    };
    this.config = validateLetheConfig(
      testIntegrations(this.crmUrl, this.batchUrl, await closedPortUrl(), this.hostile.url),
    );
    this.apiDependencies = {
      ...composeApi({
        environment: this.environment,
        config: this.config,
        connection: this.temporal.connection,
        log: this.log,
      }),
      // On the time-skipping server, "Due in 3 days" is counted on the server's clock.
      clock: this.kind === 'time-skipping' ? async () => new Date(await temporal.currentTimeMs()) : undefined,
    };
    // The API's client encrypts like the worker; `temporal.client` stays raw, to see what is stored.
    this.client = this.apiDependencies.client;
    apiServer.on('request', createApp(this.apiDependencies));
    await this.startWorker();
  }

  async startWorker(): Promise<void> {
    const worker = await createLetheWorker({
      client: this.client,
      config: this.config,
      connection: this.temporal.nativeConnection,
      environment: this.environment,
      log: this.log,
      workflowBundle: await workflowBundle(),
    });
    this.worker = { worker, running: worker.run() };
  }

  async stopWorker(): Promise<void> {
    if (!this.worker) return;
    this.worker.worker.shutdown();
    await this.worker.running;
    this.worker = undefined;
  }

  async stop(): Promise<void> {
    await this.stopWorker();
    await Promise.all(this.servers.map(close));
    await this.smtp.stop();
    await this.hostile.stop();
    await this.temporal?.teardown();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const stacks = new Map<ServerKind, Promise<Stack>>();

/** Started by the first suite that needs it, torn down once after the last (see hooks.ts). */
export function getStack(kind: ServerKind = 'dev'): Promise<Stack> {
  let stack = stacks.get(kind);
  if (!stack) {
    stack = (async () => {
      const s = new Stack(kind);
      await s.start();
      return s;
    })();
    stacks.set(kind, stack);
  }
  return stack;
}

export async function stopStacks(): Promise<void> {
  const started = [...stacks.values()];
  stacks.clear();
  for (const stack of started) await (await stack).stop();
}
