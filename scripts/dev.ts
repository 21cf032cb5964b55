/**
 * `make dev`: the whole product on this machine. Temporal's dev server (Web UI on :8233, state in
 * .data/temporal.db so requests survive a restart), the sandbox services, the worker and the API.
 * Ctrl-C stops everything, in reverse order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { codecEndpointHint } from '../src/api/codec';
import { DEVELOPMENT_KEY_FILE, loadEnvironment } from '../src/config/environment';
import { SEARCH_ATTRIBUTES } from '../src/workflows/definitions';
import { startSampleDatabases, type SampleDatabases } from './sample-database';
import { temporalCliPath } from './temporal-binaries';

const ROOT = path.resolve(__dirname, '..');
const DATA_DIR = path.resolve(ROOT, process.env.LETHE_DATA_DIR ?? '.data');
const API_PORT = Number(process.env.LETHE_PORT ?? 3000);
const API_KEY = (process.env.LETHE_API_KEYS ?? 'dev-key').split(',')[0] as string;
const TEMPORAL_PORT = 7233;
const UI_PORT = 8233;
const CRM_PORT = 4010;
const BATCH_PORT = 4020;
const POSTGRES_PORT = 5433;
const MARIADB_PORT = 3307;

const env: NodeJS.ProcessEnv = {
  ...process.env,
  LETHE_API_KEYS: process.env.LETHE_API_KEYS ?? 'dev-key',
  LETHE_PORT: String(API_PORT),
  LETHE_DATA_DIR: DATA_DIR,
  TEMPORAL_ADDRESS: `127.0.0.1:${TEMPORAL_PORT}`,
  SANDBOX_CRM_PORT: String(CRM_PORT),
  SANDBOX_CRM_TOKEN: process.env.SANDBOX_CRM_TOKEN ?? 'sandbox-crm-token',
  SANDBOX_BATCH_PORT: String(BATCH_PORT),
  BATCH_API_KEY: process.env.BATCH_API_KEY ?? 'sandbox-batch-api-key',
  BATCH_REST_KEY: process.env.BATCH_REST_KEY ?? 'sandbox-batch-rest-key',
};

const children: { name: string; process: ChildProcess }[] = [];
let stopping = false;
let databases: SampleDatabases | undefined;

function start(name: string, command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push({ name, process: child });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`\n${name} exited (${signal ?? code}); stopping everything.`);
      void stopAll(1);
    }
  });
  return child;
}

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  for (const { name, process: child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killed);
    console.log(`stopped ${name}`);
  }
  if (databases) {
    await databases.stop().catch((error: unknown) => console.error(error));
    console.log('stopped the sample databases');
  }
  process.exit(exitCode);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.end(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(name: string, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (stopping) return;
    if (Date.now() > deadline) {
      console.error(`${name} did not open port ${port} within ${timeoutMs / 1000} s`);
      await stopAll(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main() {
  for (const [name, port] of [
    ['Temporal', TEMPORAL_PORT],
    ['the Temporal Web UI', UI_PORT],
    ['the sandbox CRM', CRM_PORT],
    ['the sandbox Batch API', BATCH_PORT],
    ['the sample PostgreSQL', POSTGRES_PORT],
    ['the sample MariaDB', MARIADB_PORT],
    ['the API', API_PORT],
  ] as const) {
    if (await portOpen(port)) {
      console.error(`Port ${port} (${name}) is already in use: is another \`make dev\` running?`);
      process.exit(1);
    }
  }
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  mkdirSync(DATA_DIR, { recursive: true });
  // Made here once (the token and codec secrets, a development key, unless configured), then read
  // by the worker and the API alike; the Web UI decodes payloads through the API's codec endpoint.
  const environment = loadEnvironment(env);
  const api = `http://127.0.0.1:${API_PORT}`;
  const codecEndpoint = `${api}/codec/${environment.codecSecrets[0]}`;
  // The first-party databases, made afresh (the sandbox subject in them), before the worker
  // that checks their tables and columns as it starts.
  databases = await startSampleDatabases({ postgres: POSTGRES_PORT, mariadb: MARIADB_PORT });
  Object.assign(env, databases.env);

  start('temporal', temporalCliPath(), [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(TEMPORAL_PORT),
    '--ui-port',
    String(UI_PORT),
    '--db-filename',
    path.join(DATA_DIR, 'temporal.db'),
    '--log-level',
    'warn',
    '--ui-codec-endpoint',
    codecEndpoint,
    '--ui-disable-news-fetch',
    ...SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]),
  ]);
  start('sandbox', process.execPath, ['dist/sandbox/main.js']);
  await waitForPort('Temporal', TEMPORAL_PORT);
  start('worker', process.execPath, ['dist/worker/main.js']);
  start('api', process.execPath, ['dist/api/main.js']);
  await waitForPort('the API', API_PORT);
  await waitForPort('the Temporal Web UI', UI_PORT);

  const keyNote = environment.developmentEncryptionKey
    ? `\n    Encryption       payloads stored in Temporal are encrypted with a development key, generated into
                     ${path.join(DATA_DIR, DEVELOPMENT_KEY_FILE)}; set LETHE_ENCRYPTION_KEYS in production\n`
    : '\n    Encryption       payloads stored in Temporal are encrypted with LETHE_ENCRYPTION_KEYS\n';
  console.log(`
  Lethe is running.

    API              ${api}        (X-Authorization: ${API_KEY})
    Temporal Web UI  http://127.0.0.1:${UI_PORT}   (decodes payloads through the API's codec endpoint,
                     set for it to ${codecEndpointHint(api, environment)})
    Sandbox CRM      http://127.0.0.1:${CRM_PORT}
    Sandbox Batch    http://127.0.0.1:${BATCH_PORT}  (custom_id jane.doe has data)
    Shop database    PostgreSQL on 127.0.0.1:${POSTGRES_PORT}, database shop (integration app-db):
                     ${redactedUrl(databases.env.APP_DB_URL!)}
    Support desk     MariaDB on 127.0.0.1:${MARIADB_PORT}, database support (integration support-db):
                     ${redactedUrl(databases.env.SUPPORT_DB_URL!)}
                     (made afresh at each start; jane.doe@example.com has rows in both)
    Data folder      ${DATA_DIR}   (owner emails land in ${path.join(DATA_DIR, 'outbox')})
${keyNote}
  Try:
    curl -s -X POST ${api}/v1/requests -H 'X-Authorization: ${API_KEY}' -H 'Content-Type: application/json' \\
      -d '{"type":"access","subject":{"email":"jane.doe@example.com"}}'

  Ctrl-C stops everything.
`);
}

/** A connection URL without its password, for the banner. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error);
  await stopAll(1);
});
