/**
 * Lethe's parts as real processes, for the fault-injection tests and the benchmark: a Temporal dev
 * server on a SQLite file (so it can be killed and restarted with its state), and workers that
 * can be killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../src/workflows/definitions';
import { temporalCliPath } from './temporal-binaries';

const ROOT = path.resolve(__dirname, '..');

export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.end(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function untilPortOpen(port: number, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (Date.now() > deadline)
      throw new Error(`${what} did not open port ${port} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const done = exited(child);
  child.kill(signal);
  const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(killed);
}

/** A Temporal dev server; with a `dbFile`, stop it and start another on the same state. */
export class TemporalDevServer {
  private child?: ChildProcess;

  constructor(
    readonly port: number,
    /** Without one, the server keeps its state in memory. */
    private readonly dbFile?: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.child = spawn(
      temporalCliPath(),
      [
        'server',
        'start-dev',
        '--headless',
        '--ip',
        '127.0.0.1',
        '--port',
        String(this.port),
        ...(this.dbFile ? ['--db-filename', this.dbFile] : []),
        '--log-level',
        'error',
        ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
      ],
      // Its own errors while it is killed and restarted on purpose are no news.
      { stdio: 'ignore' },
    );
    await untilPortOpen(this.port, 'the Temporal dev server');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child) await stopProcess(this.child, signal);
    this.child = undefined;
  }
}

/**
 * A Lethe process, the worker or the API, configured by `env` on top of this process's environment
 * (one process, so SIGKILL kills it whole): from `src` through tsx, or, with `from: 'build'`, as
 * it ships, `node dist/<which>/main.js` (`npm run build` first). With `captured`, its stdout and
 * stderr are pipes for the caller to read (who then must, or the process blocks on a full pipe).
 */
export function startLetheProcess(
  which: 'worker' | 'api',
  env: NodeJS.ProcessEnv,
  from: 'source' | 'build' = 'source',
  output: 'quiet' | 'captured' = 'quiet',
): ChildProcess {
  const args =
    from === 'build'
      ? [path.join(ROOT, `dist/${which}/main.js`)]
      : ['--require', 'tsx/cjs', path.join(ROOT, `src/${which}/main.ts`)];
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: output === 'captured' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'ignore', 'inherit'],
  });
}
