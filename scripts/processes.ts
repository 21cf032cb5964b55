/**
 * Lethe's parts as real processes, for `make dev`, the fault-injection tests and the benchmark: a
 * Temporal dev server on a SQLite file (so it can be killed and restarted with its state), and
 * workers that can be killed with SIGKILL.
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

/** Waits for `ready`; gives up at the timeout, or as soon as `abandoned` says so (a part died meanwhile). */
async function until(
  ready: () => Promise<boolean>,
  what: string,
  { timeoutMs = 60_000, abandoned = () => false }: { timeoutMs?: number; abandoned?: () => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (abandoned()) throw new Error(`stopped waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}, in vain`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function untilPortOpen(
  port: number,
  what: string,
  options?: { timeoutMs?: number; abandoned?: () => boolean },
): Promise<void> {
  return until(() => portOpen(port), `${what} to open port ${port}`, options);
}

/** Until `url` answers 200: a readiness endpoint says the process is up and reaches what it needs. */
export function untilReady(
  url: string,
  what: string,
  options?: { timeoutMs?: number; abandoned?: () => boolean },
): Promise<void> {
  const ready = () =>
    fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.status === 200,
      () => false,
    );
  return until(ready, `${what} to be ready (${url})`, options);
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

/** `make dev`'s: the Web UI, decoding payloads through Lethe's codec endpoint, and the server's warnings shown. */
export interface TemporalUi {
  port: number;
  codecEndpoint: string;
}

/** A Temporal dev server; with a `dbFile`, stop it and start another on the same state. */
export class TemporalDevServer {
  private child?: ChildProcess;

  constructor(
    readonly port: number,
    /** Without one, the server keeps its state in memory. */
    private readonly dbFile?: string,
    /** Without one, headless and silent. */
    private readonly ui?: TemporalUi,
  ) {}

  get process(): ChildProcess | undefined {
    return this.child;
  }

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
        '--ip',
        '127.0.0.1',
        '--port',
        String(this.port),
        ...(this.dbFile ? ['--db-filename', this.dbFile] : []),
        ...(this.ui
          ? [
              '--ui-port',
              String(this.ui.port),
              '--ui-codec-endpoint',
              this.ui.codecEndpoint,
              '--ui-disable-news-fetch',
              '--log-level',
              'warn',
            ]
          : ['--headless', '--log-level', 'error']),
        ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
      ],
      // In tests, its own errors while it is killed and restarted on purpose are no news.
      { stdio: this.ui ? ['ignore', 'inherit', 'inherit'] : 'ignore' },
    );
    const child = this.child;
    await untilPortOpen(this.port, 'the Temporal dev server', {
      abandoned: () => child.exitCode !== null || child.signalCode !== null,
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child) await stopProcess(this.child, signal);
    this.child = undefined;
  }
}

const STDIO = {
  quiet: ['ignore', 'inherit'],
  captured: ['pipe', 'pipe'],
  shown: ['inherit', 'inherit'],
} as const;

/**
 * A Lethe process, the worker, the API or the sandbox services, configured by `env` on top of this process's environment
 * (one process, so SIGKILL kills it whole): from `src` through tsx, or, with `from: 'build'`, as
 * it ships, `node dist/<which>/main.js` (`npm run build` first). With `captured`, its stdout and
 * stderr are pipes for the caller to read (who then must, or the process blocks on a full pipe).
 */
export function startLetheProcess(
  which: 'worker' | 'api' | 'sandbox',
  env: NodeJS.ProcessEnv,
  from: 'source' | 'build' = 'source',
  output: 'quiet' | 'captured' | 'shown' = 'quiet',
): ChildProcess {
  const args =
    from === 'build'
      ? [path.join(ROOT, `dist/${which}/main.js`)]
      : ['--require', 'tsx/cjs', path.join(ROOT, `src/${which}/main.ts`)];
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', ...STDIO[output]],
  });
}
