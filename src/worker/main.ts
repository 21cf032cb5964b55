import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadEnvironment } from '../config/environment';
import { createLogger } from '../infra/logger';
import { createLetheWorker } from './create-worker';

async function main() {
  const log = createLogger('worker');
  // The SDK's own INFO lines (the bundler's module list) would bury Lethe's logs.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const environment = loadEnvironment();
  const connection = await NativeConnection.connect({ address: environment.temporalAddress });
  const worker = await createLetheWorker({ connection, environment, log });
  log.info({ temporal: environment.temporalAddress, namespace: environment.namespace }, 'worker started');
  // The worker shuts down gracefully on SIGINT/SIGTERM by itself: running activities may finish.
  await worker.run();
  await connection.close();
  log.info('worker stopped');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
