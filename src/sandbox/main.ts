import { createLogger } from '../infra/logger';
import { createSandboxCrm } from './crm';

/** The sandbox third-party services that the default integrations file points at. */
const log = createLogger('sandbox');
const port = Number(process.env.SANDBOX_CRM_PORT ?? 4010);
const token = process.env.SANDBOX_CRM_TOKEN ?? 'sandbox-crm-token';

const crm = createSandboxCrm({ token });
const server = crm.app.listen(port, '127.0.0.1', () =>
  log.info({ url: `http://127.0.0.1:${port}` }, 'sandbox CRM listening'),
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
