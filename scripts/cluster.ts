/**
 * Lethe's production topology as native processes on this machine (no Docker engine runs here;
 * docker-compose.yml describes the same parts): the Temporal server on PostgreSQL with PostgreSQL
 * visibility, the Temporal Web UI, an S3-compatible store as the shared blob store, the sandbox
 * services and the sample databases, two Lethe workers and two APIs, each with its own data folder,
 * all built as they ship. `make cluster` starts it (`main` below); the chaos run and the bench start
 * it with free ports and kill its parts.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { newEncryptionKey } from '../src/infra/payload-codec';
import { PostgresServer } from './databases';
import { freePort, portOpen, startLetheProcess, stopProcess, untilReady } from './processes';
import { startSampleDatabases, type SampleDatabases } from './sample-database';
import { createVersionedBucket, S3_SERVER_CREDENTIALS, startS3Server, type S3Server } from './s3-server';
import {
  DEFAULT_TEMPORAL_PORTS,
  freeTemporalPorts,
  TemporalServer,
  TemporalUiServer,
  type TemporalServerPorts,
} from './temporal-server';

const ROOT = path.resolve(__dirname, '..');
const FAILURE_CONVERTER_PATH = path.join(ROOT, 'src/infra/failure-converter.ts');
export const CLUSTER_BUCKET = 'lethe-cluster';

/** `make cluster`'s ports, the README's walkthrough's. */
const STANDARD_PORTS = {
  temporal: DEFAULT_TEMPORAL_PORTS,
  temporalDatabase: 5434,
  ui: 8080,
  s3: 9000,
  crm: 4010,
  batch: 4020,
  samplePostgres: 5433,
  sampleMariadb: 3307,
  apis: [3000, 3002],
  workerHealth: [3001, 3003],
};

interface ClusterPorts {
  temporal: TemporalServerPorts;
  temporalDatabase: number;
  ui: number;
  s3: number;
  crm: number;
  batch: number;
  samplePostgres: number;
  sampleMariadb: number;
  apis: number[];
  workerHealth: number[];
}

export interface ClusterOptions {
  /** `standard`: make cluster's fixed ports; `free`: any free ones (the chaos run, the bench). */
  ports: 'standard' | 'free';
  workers?: number;
  apis?: number;
  integrationsFile?: string;
  /** On top of the cluster's own, for every Lethe process: the integrations' credentials, say. */
  env?: NodeJS.ProcessEnv;
  ui?: boolean;
  sampleDatabases?: boolean;
  output?: 'quiet' | 'shown';
}

/** One Lethe process of the cluster: a worker or an API, restartable on the same data folder. */
export interface LetheNode {
  name: string;
  which: 'worker' | 'api';
  env: NodeJS.ProcessEnv;
  /** The API's URL, or the worker's health endpoint's. */
  url: string;
  process?: ChildProcess;
}

export class LetheCluster {
  readonly workers: LetheNode[] = [];
  readonly apis: LetheNode[] = [];
  private sandbox?: ChildProcess;
  private ui?: TemporalUiServer;
  private s3?: S3Server;
  private sampleDatabases?: SampleDatabases;
  private temporalDatabase?: PostgresServer;
  private temporalServer?: TemporalServer;
  /** Every Lethe process's variables but its own port and data folder. */
  env: NodeJS.ProcessEnv = {};

  private constructor(
    readonly folder: string,
    readonly ports: ClusterPorts,
    private readonly options: ClusterOptions,
  ) {}

  get temporal(): TemporalServer {
    if (!this.temporalServer) throw new Error('the cluster has not started');
    return this.temporalServer;
  }

  get database(): PostgresServer {
    if (!this.temporalDatabase) throw new Error('the cluster has not started');
    return this.temporalDatabase;
  }

  get uiUrl(): string | undefined {
    return this.ui ? `http://127.0.0.1:${this.ports.ui}` : undefined;
  }

  get s3Endpoint(): string {
    return `http://127.0.0.1:${this.ports.s3}`;
  }

  static async start(options: ClusterOptions): Promise<LetheCluster> {
    const workers = options.workers ?? 2;
    const apis = options.apis ?? 2;
    const ports: ClusterPorts =
      options.ports === 'standard'
        ? STANDARD_PORTS
        : {
            temporal: await freeTemporalPorts(),
            temporalDatabase: await freePort(),
            ui: await freePort(),
            s3: await freePort(),
            crm: await freePort(),
            batch: await freePort(),
            samplePostgres: await freePort(),
            sampleMariadb: await freePort(),
            apis: await Promise.all(Array.from({ length: apis }, () => freePort())),
            workerHealth: await Promise.all(Array.from({ length: workers }, () => freePort())),
          };
    const cluster = new LetheCluster(mkdtempSync(path.join(os.tmpdir(), 'lethe-cluster-')), ports, options);
    try {
      await cluster.startAll(workers, apis);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The ports `make cluster` needs, named, that something else holds. */
  static async portsInUse(): Promise<string[]> {
    const { temporal, apis, workerHealth, ...rest } = STANDARD_PORTS;
    const named: [string, number][] = [
      ...Object.entries(temporal).map(([name, port]) => [`Temporal ${name}`, port] as [string, number]),
      ...Object.entries(rest),
      ...apis.map((port, i) => [`API ${i + 1}`, port] as [string, number]),
      ...workerHealth.map((port, i) => [`worker ${i + 1}'s health`, port] as [string, number]),
    ];
    const taken: string[] = [];
    for (const [name, port] of named) if (await portOpen(port)) taken.push(`${port} (${name})`);
    return taken;
  }

  private async startAll(workers: number, apis: number): Promise<void> {
    const { ports, folder, options } = this;
    // PostgreSQL for Temporal, then its schemas by Temporal's tool, then the server.
    this.temporalDatabase = await PostgresServer.start(ports.temporalDatabase);
    this.temporalServer = new TemporalServer(
      this.temporalDatabase,
      ports.temporal,
      path.join(folder, 'temporal'),
    );
    await this.temporalServer.setUpSchemas();
    const [s3, sampleDatabases] = await Promise.all([
      startS3Server(ports.s3),
      options.sampleDatabases === false
        ? undefined
        : startSampleDatabases({ postgres: ports.samplePostgres, mariadb: ports.sampleMariadb }),
      this.temporalServer.start(),
    ]);
    this.s3 = s3;
    this.sampleDatabases = sampleDatabases;
    await this.temporalServer.createNamespace();
    await createVersionedBucket(s3.endpoint, CLUSTER_BUCKET);

    const codecSecret = randomBytes(24).toString('hex');
    const apiUrls = ports.apis.slice(0, apis).map((port) => `http://127.0.0.1:${port}`);
    this.env = {
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: this.temporalServer.address,
      LETHE_INTEGRATIONS: options.integrationsFile ?? path.join(ROOT, 'config/integrations.yaml'),
      LETHE_API_KEYS: process.env.LETHE_API_KEYS ?? 'cluster-key',
      // Secrets every process shares (a generated one would differ per data folder).
      LETHE_TOKEN_SECRET: process.env.LETHE_TOKEN_SECRET ?? randomBytes(24).toString('hex'),
      LETHE_CODEC_SECRET: process.env.LETHE_CODEC_SECRET ?? codecSecret,
      LETHE_ENCRYPTION_KEYS: process.env.LETHE_ENCRYPTION_KEYS ?? `cluster:${newEncryptionKey()}`,
      LETHE_PUBLIC_URL: apiUrls[0],
      LETHE_CODEC_ORIGINS: `http://127.0.0.1:${ports.ui},http://localhost:${ports.ui}`,
      LETHE_BLOB_STORE: 's3',
      LETHE_S3_BUCKET: CLUSTER_BUCKET,
      LETHE_S3_ENDPOINT: s3.endpoint,
      ...S3_SERVER_CREDENTIALS,
      LETHE_WORKFLOW_BUNDLE: await this.bundleWorkflows(),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      SANDBOX_CRM_PORT: String(ports.crm),
      SANDBOX_CRM_TOKEN: 'sandbox-crm-token',
      SANDBOX_BATCH_PORT: String(ports.batch),
      BATCH_API_KEY: 'sandbox-batch-api-key',
      BATCH_REST_KEY: 'sandbox-batch-rest-key',
      ...sampleDatabases?.env,
      ...options.env,
    };
    this.sandbox = startLetheProcess('sandbox', this.env, 'build', this.options.output ?? 'quiet');
    for (let i = 0; i < workers; i++) {
      const dataDir = path.join(folder, `worker-${i + 1}`);
      this.workers.push({
        name: `worker ${i + 1}`,
        which: 'worker',
        url: `http://127.0.0.1:${ports.workerHealth[i]}`,
        env: { LETHE_DATA_DIR: dataDir, LETHE_WORKER_HEALTH_PORT: String(ports.workerHealth[i]) },
      });
    }
    for (let i = 0; i < apis; i++) {
      this.apis.push({
        name: `API ${i + 1}`,
        which: 'api',
        url: apiUrls[i]!,
        env: { LETHE_DATA_DIR: path.join(folder, `api-${i + 1}`), LETHE_PORT: String(ports.apis[i]) },
      });
    }
    await Promise.all([...this.workers, ...this.apis].map((node) => this.startNode(node)));
    if (options.ui !== false) {
      this.ui = new TemporalUiServer(
        ports.ui,
        this.temporalServer.address,
        path.join(folder, 'ui'),
        `${apiUrls[0]}/codec/${this.env.LETHE_CODEC_SECRET!.split(',')[0]}`,
        apiUrls[0]!,
      );
      await this.ui.start();
    }
  }

  /** Bundled once for every worker and every restart: a kill -9 is followed by a quick start. */
  private async bundleWorkflows(): Promise<string> {
    const file = path.join(this.folder, 'lethe-workflows.js');
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(ROOT, 'src/workflows'),
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    writeFileSync(file, code);
    return file;
  }

  /** Starts the node's process (again, after a kill) and waits until it is ready. */
  async startNode(node: LetheNode): Promise<void> {
    mkdirSync(node.env.LETHE_DATA_DIR!, { recursive: true });
    node.process = startLetheProcess(
      node.which,
      { ...this.env, ...node.env },
      'build',
      this.options.output ?? 'quiet',
    );
    const child = node.process;
    await untilReady(`${node.url}/readyz`, node.name, {
      timeoutMs: 120_000,
      abandoned: () => child.exitCode !== null || child.signalCode !== null,
    });
  }

  /** kill -9: the process ends mid-whatever, as a machine lost would. */
  async killNode(node: LetheNode): Promise<void> {
    if (node.process) await stopProcess(node.process, 'SIGKILL');
    node.process = undefined;
  }

  async stop(): Promise<void> {
    const nodes = [...this.apis, ...this.workers];
    await Promise.allSettled(nodes.map((node) => (node.process ? stopProcess(node.process) : undefined)));
    await Promise.allSettled([
      this.ui?.stop(),
      this.sandbox ? stopProcess(this.sandbox) : undefined,
      this.s3?.stop(),
      this.sampleDatabases?.stop(),
    ]);
    await this.temporalServer?.stop().catch(() => undefined);
    await this.temporalDatabase?.stop().catch(() => undefined);
    rmSync(this.folder, { recursive: true, force: true });
  }
}

/** `make cluster`: the whole topology on the standard ports, until Ctrl-C. */
async function main(): Promise<void> {
  const taken = await LetheCluster.portsInUse();
  if (taken.length > 0)
    throw new Error(
      `Ports in use: ${taken.join(', ')}. Is \`make dev\` or another \`make cluster\` running?`,
    );
  console.log('starting the cluster (PostgreSQL, Temporal server, S3, sandbox, 2 workers, 2 APIs, Web UI)…');
  const cluster = await LetheCluster.start({ ports: 'standard', output: 'shown' });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the cluster…');
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  const key = cluster.env.LETHE_API_KEYS!.split(',')[0];
  console.log(`
  Lethe's production topology is running, as native processes.

    Temporal server  ${cluster.temporal.address}  (temporal-server 1.32.0, PostgreSQL on 127.0.0.1:${cluster.ports.temporalDatabase},
                     PostgreSQL visibility; schemas by temporal-sql-tool)
    Temporal Web UI  ${cluster.uiUrl}
    Blob store       S3 (moto) at ${cluster.s3Endpoint}, bucket ${CLUSTER_BUCKET}: shared by every worker and API
    APIs             ${cluster.apis.map((a) => a.url).join('   ')}   (X-Authorization: ${key})
    Workers          health at ${cluster.workers.map((w) => `${w.url}/readyz`).join('   ')}
    Sandbox          CRM http://127.0.0.1:${cluster.ports.crm}   Batch http://127.0.0.1:${cluster.ports.batch}
    Data folders     ${cluster.folder}/{worker-1,worker-2,api-1,api-2}  (owner emails land in a worker's outbox)

  Everything is made afresh at each start and removed at Ctrl-C.
`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
