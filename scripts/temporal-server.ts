/**
 * The Temporal server itself, as production runs it: `temporal-server` (built from its Go module by
 * scripts/install-temporal-server.sh) on PostgreSQL, with PostgreSQL visibility, its schemas set up
 * by Temporal's own SQL tool from the module's files, and the Temporal Web UI's server beside it.
 * `make cluster`, the chaos run and the bench start it; the dev server (scripts/processes.ts) is
 * for `make dev` and the tests.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { SEARCH_ATTRIBUTES } from '../src/workflows/definitions';
import type { PostgresServer } from './databases';
import { exited, freePort, stopProcess, untilPortOpen } from './processes';
import { temporalCliPath } from './temporal-binaries';

const ROOT = path.resolve(__dirname, '..');
const INSTALLED = path.join(ROOT, '.tools', 'temporal-server');
const run = promisify(execFile);

function installed(file: string): string {
  const found = path.join(INSTALLED, file);
  if (!existsSync(found))
    throw new Error(
      `${found} is missing: run \`make cluster-tools\` (builds the Temporal server from its Go module).`,
    );
  return found;
}

/** The server's ports: the frontend's gRPC (what workers and clients dial) and the rest. */
export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

/** The module's development-postgres12.yaml's own ports. */
export const DEFAULT_TEMPORAL_PORTS: TemporalServerPorts = {
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
  metrics: 8000,
};

export async function freeTemporalPorts(): Promise<TemporalServerPorts> {
  const ports = {} as TemporalServerPorts;
  for (const key of Object.keys(DEFAULT_TEMPORAL_PORTS) as (keyof TemporalServerPorts)[])
    ports[key] = await freePort();
  return ports;
}

const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;

/**
 * Closed requests must outlive Lethe's retention (30 days) in visibility, or the retention sweep
 * cannot find them: the same 32 days as docker-compose.yml (the worker lengthens a shorter one too).
 */
export const NAMESPACE_RETENTION = '768h';

export class TemporalServer {
  private child?: ChildProcess;
  private readonly output: string[] = [];

  constructor(
    private readonly database: PostgresServer,
    readonly ports: TemporalServerPorts,
    /** Where its configuration files are written. */
    private readonly folder: string,
    readonly namespace = 'default',
  ) {}

  get address(): string {
    return `127.0.0.1:${this.ports.frontend}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Both databases made and brought to the module's latest schema, by Temporal's SQL tool. */
  async setUpSchemas(): Promise<void> {
    const tool = installed('bin/temporal-sql-tool');
    const connection = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(this.database.port),
      '-u',
      'postgres',
      '--pw',
      this.database.adminPassword,
    ];
    for (const [name, database] of Object.entries(DATABASES)) {
      const on = [...connection, '--db', database];
      const versioned = installed(`schema/postgresql/v12/${name}/versioned`);
      for (const command of [
        ['create-database'],
        ['setup-schema', '-v', '0.0'],
        ['update-schema', '-d', versioned],
      ])
        await run(tool, [...on, ...command]).catch((error: { stderr?: string }) => {
          throw new Error(
            `temporal-sql-tool ${command[0]} (${database}) failed: ${error.stderr ?? String(error)}`,
          );
        });
    }
  }

  /** The module's development-postgres12.yaml, pointed at this database and these ports. */
  private writeConfiguration(): string {
    const config = YAML.parse(readFileSync(installed('config/development-postgres12.yaml'), 'utf8'));
    for (const store of Object.values(config.persistence.datastores) as { sql: Record<string, unknown> }[])
      Object.assign(store.sql, {
        connectAddr: `127.0.0.1:${this.database.port}`,
        user: 'postgres',
        password: this.database.adminPassword,
      });
    const { ports } = this;
    const services = config.services;
    Object.assign(services.frontend.rpc, {
      grpcPort: ports.frontend,
      httpPort: ports.frontendHttp,
      membershipPort: ports.frontendMembership,
    });
    Object.assign(services.history.rpc, { grpcPort: ports.history, membershipPort: ports.historyMembership });
    Object.assign(services.matching.rpc, {
      grpcPort: ports.matching,
      membershipPort: ports.matchingMembership,
    });
    Object.assign(services.worker.rpc, { grpcPort: ports.worker, membershipPort: ports.workerMembership });
    config.clusterMetadata.clusterInformation.active.rpcAddress = this.address;
    config.global.metrics.prometheus.listenAddress = `127.0.0.1:${ports.metrics}`;
    // Profiling and archival to local files are the template's extras, not production's.
    delete config.global.pprof;
    config.archival = { history: { state: 'disabled' }, visibility: { state: 'disabled' } };
    delete config.namespaceDefaults;
    config.log = { stdout: true, level: 'warn' };
    const dynamic = path.join(this.folder, 'dynamicconfig.yaml');
    writeFileSync(
      dynamic,
      YAML.stringify({
        // Lethe's search attributes are used the moment they are made, not a cache refresh later.
        'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }],
      }),
    );
    config.dynamicConfigClient = { filepath: dynamic, pollInterval: '10s' };
    const file = path.join(this.folder, 'temporal-server.yaml');
    writeFileSync(file, YAML.stringify(config));
    return file;
  }

  async start(): Promise<void> {
    mkdirSync(this.folder, { recursive: true });
    const file = this.writeConfiguration();
    const child = spawn(
      installed('bin/temporal-server'),
      ['--config-file', file, '--allow-no-auth', 'start'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const died = exited(child).then(() => {
      throw new Error(`the Temporal server exited at start: ${this.output.join('').slice(-3000)}`);
    });
    await Promise.race([
      untilPortOpen(this.ports.frontend, 'the Temporal server', { timeoutMs: 90_000 }),
      died,
    ]);
    await Promise.race([this.untilServing(), died]);
    died.catch(() => undefined);
  }

  private cli(args: string[]) {
    return run(temporalCliPath(), [...args, '--address', this.address], { timeout: 30_000 });
  }

  /** The frontend answers once the other services have joined its ring. */
  private async untilServing(): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const serving = await this.cli(['operator', 'cluster', 'health']).then(
        ({ stdout }) => stdout.includes('SERVING'),
        () => false,
      );
      if (serving) return;
      if (Date.now() > deadline)
        throw new Error(`the Temporal server did not serve in 90 s: ${this.output.join('').slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** The namespace and Lethe's search attributes, as docker-compose's setup job makes them. */
  async createNamespace(): Promise<void> {
    const ns = ['--namespace', this.namespace];
    await this.cli(['operator', 'namespace', 'create', ...ns, '--retention', NAMESPACE_RETENTION]);
    const deadline = Date.now() + 60_000;
    // Each service learns of a new namespace from its cache, refreshed every few seconds.
    for (;;) {
      const listed = await this.cli(['workflow', 'list', ...ns, '--limit', '1']).then(
        () => true,
        () => false,
      );
      if (listed) break;
      if (Date.now() > deadline) throw new Error(`namespace ${this.namespace} was not usable in 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    for (const { name } of SEARCH_ATTRIBUTES)
      await this.cli(['operator', 'search-attribute', 'create', ...ns, '--name', name, '--type', 'Keyword']);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child) await stopProcess(this.child, signal);
    this.child = undefined;
  }

  /** Stopped and started again on the same databases: a deploy, or a crash with SIGKILL. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }
}

/** The Temporal Web UI's own server (the module ships its pages), on the cluster's frontend. */
export class TemporalUiServer {
  private child?: ChildProcess;

  constructor(
    readonly port: number,
    private readonly temporalAddress: string,
    private readonly folder: string,
    private readonly codecEndpoint: string,
    /** The API whose codec endpoint the browser calls. */
    private readonly apiOrigin: string,
  ) {}

  async start(): Promise<void> {
    const configFolder = path.join(this.folder, 'ui-config');
    mkdirSync(configFolder, { recursive: true });
    writeFileSync(
      path.join(configFolder, 'cluster.yaml'),
      YAML.stringify({
        temporalGrpcAddress: this.temporalAddress,
        host: '127.0.0.1',
        port: this.port,
        enableUi: true,
        publicPath: '',
        defaultNamespace: 'default',
        disableNewsFetch: true,
        cors: { allowOrigins: [this.apiOrigin], cookieInsecure: true },
        codec: { endpoint: this.codecEndpoint },
      }),
    );
    this.child = spawn(
      installed('bin/temporal-ui-server'),
      ['--root', this.folder, '--config', 'ui-config', '--env', 'cluster', 'start'],
      { stdio: 'ignore' },
    );
    const child = this.child;
    await untilPortOpen(this.port, 'the Temporal Web UI', {
      abandoned: () => child.exitCode !== null || child.signalCode !== null,
    });
  }

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child);
    this.child = undefined;
  }
}
