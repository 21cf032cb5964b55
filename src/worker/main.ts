import http from 'node:http';
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
  const healthPort = process.env.LETHE_WORKER_HEALTH_PORT;
  // For container health checks: 200 while the worker polls, 503 once it drains or fails.
  const health =
    healthPort &&
    http
      .createServer((_req, res) => {
        const state = worker.getState();
        res.writeHead(state === 'RUNNING' ? 200 : 503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ state }));
      })
      .listen(Number(healthPort), process.env.LETHE_HOST ?? '127.0.0.1');
  // The worker shuts down gracefully on SIGINT/SIGTERM by itself: running activities may finish.
  await worker.run();
  if (health) health.close();
  await connection.close();
  log.info('worker stopped');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
