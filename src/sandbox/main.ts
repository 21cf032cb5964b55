import { createLogger } from '../infra/logger';
import { createSandboxBatch } from './batch';
import { createSandboxCrm } from './crm';

/** The sandbox third-party services that the default integrations file points at. */
const log = createLogger('sandbox', 'info');
const env = process.env;
const services = [
  {
    name: 'sandbox CRM',
    port: Number(env.SANDBOX_CRM_PORT ?? 4010),
    app: createSandboxCrm({ token: env.SANDBOX_CRM_TOKEN ?? 'sandbox-crm-token' }).app,
  },
  {
    name: 'sandbox Batch GDPR API',
    port: Number(env.SANDBOX_BATCH_PORT ?? 4020),
    app: createSandboxBatch({
      apiKey: env.BATCH_API_KEY ?? 'sandbox-batch-api-key',
      restKey: env.BATCH_REST_KEY ?? 'sandbox-batch-rest-key',
      pendingMs: Number(env.SANDBOX_BATCH_PENDING_MS ?? 3000),
    }).app,
  },
];

const servers = services.map(({ name, port, app }) =>
  app.listen(port, '127.0.0.1', () => log.info({ url: `http://127.0.0.1:${port}` }, `${name} listening`)),
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    let open = servers.length;
    servers.forEach((server) => server.close(() => --open === 0 && process.exit(0)));
  });
}
