/**
 * `make dev`: the whole product on this machine. Temporal's dev server (Web UI on :8233, state in
 * .data/temporal.db so requests survive a restart), the sandbox services, the worker and the API.
 * The configuration is checked before anything starts; the banner is printed once every part
 * answers. Ctrl-C stops everything, in reverse order.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { codecEndpointHint } from '../src/api/codec';
import { DEVELOPMENT_KEY_FILE, loadEnvironment } from '../src/config/environment';
import { loadIntegrationsFile } from '../src/config/integrations-file';
import {
  portOpen,
  startLetheProcess,
  stopProcess,
  TemporalDevServer,
  untilPortOpen,
  untilReady,
} from './processes';
import { startSampleDatabases, type SampleDatabases } from './sample-database';

const ROOT = path.resolve(__dirname, '..');
const TEMPORAL_PORT = 7233;
const UI_PORT = 8233;
const CRM_PORT = 4010;
const BATCH_PORT = 4020;
const WORKER_HEALTH_PORT = 3001;
const POSTGRES_PORT = 5433;
const MARIADB_PORT = 3307;

const env: NodeJS.ProcessEnv = {
  ...process.env,
  LETHE_API_KEYS: process.env.LETHE_API_KEYS ?? 'dev-key',
  LETHE_DATA_DIR: path.resolve(ROOT, process.env.LETHE_DATA_DIR ?? '.data'),
  TEMPORAL_ADDRESS: `127.0.0.1:${TEMPORAL_PORT}`,
  LETHE_WORKER_HEALTH_PORT: String(WORKER_HEALTH_PORT),
  SANDBOX_CRM_PORT: String(CRM_PORT),
  SANDBOX_CRM_TOKEN: process.env.SANDBOX_CRM_TOKEN ?? 'sandbox-crm-token',
  SANDBOX_BATCH_PORT: String(BATCH_PORT),
  BATCH_API_KEY: process.env.BATCH_API_KEY ?? 'sandbox-batch-api-key',
  BATCH_REST_KEY: process.env.BATCH_REST_KEY ?? 'sandbox-batch-rest-key',
};

const children: { name: string; process: ChildProcess }[] = [];
let stopping: Promise<never> | undefined;
let databases: SampleDatabases | undefined;
const abandoned = () => stopping !== undefined;

/** A part that exits on its own stops everything: the product is of no use with a part missing. */
function supervise(name: string, child: ChildProcess): void {
  children.push({ name, process: child });
  child.on('exit', (code, signal) => {
    if (abandoned()) return;
    console.error(`\n${name} exited (${signal ?? code}); stopping everything.`);
    void stopAll(1);
  });
}

function stopAll(exitCode: number): Promise<never> {
  stopping ??= (async () => {
    for (const { name, process: child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      await stopProcess(child);
      console.log(`stopped ${name}`);
    }
    if (databases) {
      await databases.stop().catch((error: unknown) => console.error(error));
      console.log('stopped the sample databases');
    }
    process.exit(exitCode);
  })();
  return stopping;
}

async function main() {
  // Configuration first: a bad environment or integrations file is reported before anything starts.
  // Loading the environment also makes the development secrets, once, for the worker and the API.
  const environment = loadEnvironment(env);
  const config = loadIntegrationsFile(environment.integrationsFile);
  const api = `http://127.0.0.1:${environment.port}`;
  for (const [name, port] of [
    ['Temporal', TEMPORAL_PORT],
    ['the Temporal Web UI', UI_PORT],
    ['the sandbox CRM', CRM_PORT],
    ['the sandbox Batch API', BATCH_PORT],
    ['the sample PostgreSQL', POSTGRES_PORT],
    ['the sample MariaDB', MARIADB_PORT],
    ['the worker’s health endpoint', WORKER_HEALTH_PORT],
    ['the API', environment.port],
  ] as const) {
    if (await portOpen(port)) {
      throw new Error(`Port ${port} (${name}) is already in use: is another \`make dev\` running?`);
    }
  }
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  mkdirSync(environment.dataDir, { recursive: true });
  // The first-party databases, made afresh (the sandbox subject in them), before the worker
  // that checks their tables and columns as it starts.
  databases = await startSampleDatabases({ postgres: POSTGRES_PORT, mariadb: MARIADB_PORT });
  Object.assign(env, databases.env);

  // The Web UI decodes payloads through the API's codec endpoint.
  const temporal = new TemporalDevServer(TEMPORAL_PORT, path.join(environment.dataDir, 'temporal.db'), {
    port: UI_PORT,
    codecEndpoint: `${api}/codec/${environment.codecSecrets[0]}`,
  });
  const temporalStarted = temporal.start();
  supervise('temporal', temporal.process!);
  supervise('sandbox', startLetheProcess('sandbox', env, 'build', 'shown'));
  await temporalStarted;
  supervise('worker', startLetheProcess('worker', env, 'build', 'shown'));
  supervise('api', startLetheProcess('api', env, 'build', 'shown'));
  const waiting = { abandoned };
  await Promise.all([
    untilReady(`${api}/readyz`, 'the API', waiting),
    untilReady(`http://127.0.0.1:${WORKER_HEALTH_PORT}/readyz`, 'the worker', waiting),
    untilPortOpen(UI_PORT, 'the Temporal Web UI', waiting),
    untilPortOpen(CRM_PORT, 'the sandbox CRM', waiting),
    untilPortOpen(BATCH_PORT, 'the sandbox Batch API', waiting),
  ]);
  if (abandoned()) return;

  const keyNote = environment.developmentEncryptionKey
    ? `\n    Encryption       payloads stored in Temporal are encrypted with a development key, generated into
                     ${path.join(environment.dataDir, DEVELOPMENT_KEY_FILE)}; set LETHE_ENCRYPTION_KEYS in production\n`
    : '\n    Encryption       payloads stored in Temporal are encrypted with LETHE_ENCRYPTION_KEYS\n';
  const apiKey = environment.apiKeys[0] ?? '';
  console.log(`
  Lethe is running (${config.integrations.length} integrations).

    API              ${api}        (X-Authorization: ${apiKey})
    Temporal Web UI  http://127.0.0.1:${UI_PORT}   (decodes payloads through the API's codec endpoint,
                     set for it to ${codecEndpointHint(api, environment)})
    Sandbox CRM      http://127.0.0.1:${CRM_PORT}
    Sandbox Batch    http://127.0.0.1:${BATCH_PORT}  (custom_id jane.doe has data)
    Shop database    PostgreSQL on 127.0.0.1:${POSTGRES_PORT}, database shop (integration app-db):
                     ${redactedUrl(databases.env.APP_DB_URL!)}
    Support desk     MariaDB on 127.0.0.1:${MARIADB_PORT}, database support (integration support-db):
                     ${redactedUrl(databases.env.SUPPORT_DB_URL!)}
                     (made afresh at each start; jane.doe@example.com has rows in both)
    Data folder      ${environment.dataDir}   (owner emails land in ${path.join(environment.dataDir, 'outbox')})
${keyNote}
  Try:
    curl -s -X POST ${api}/v1/requests -H 'X-Authorization: ${apiKey}' -H 'Content-Type: application/json' \\
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
  // Once a part has died, waits that gave up say nothing new.
  if (!abandoned()) console.error(error instanceof Error ? error.message : error);
  await stopAll(1);
});
