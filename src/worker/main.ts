import http from 'node:http';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadEnvironment } from '../config/environment';
import { loadIntegrationsFile } from '../config/integrations-file';
import { createLogger } from '../infra/logger';
import { createWorkerMetrics } from '../infra/metrics';
import { temporalClientFor } from '../config/temporal-client';
import { createLetheWorker, type LetheWorkers } from './create-worker';
import { ensureRetentionSchedule } from './retention-schedule';

/**
 * For container health checks and Prometheus: `/healthz` answers while the process lives,
 * `/readyz` 200 while the workers poll (503 once they drain or fail), `/metrics` Lethe's metrics.
 */
function serveHealth(
  workers: LetheWorkers,
  metrics: ReturnType<typeof createWorkerMetrics>,
  { host, port }: { host: string; port: number },
) {
  return http
    .createServer((req, res) => {
      if (req.url === '/metrics') {
        void metrics.registry.metrics().then((text) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(text);
        });
        return;
      }
      const state = workers.getState();
      const ready = req.url !== '/readyz' || state === 'RUNNING';
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ state }));
    })
    .listen(port, host);
}

async function main() {
  // First: a production worker without its secrets says which, before it starts anything.
  const environment = loadEnvironment();
  const log = createLogger('worker', environment.logLevel);
  const { sdkMetricsAddress, healthPort } = environment.worker;
  // The SDK's own INFO lines (the bundler's module list) would bury Lethe's logs. Its metrics
  // (task latencies, slots, polls) are served by its own Prometheus exporter when asked for.
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    ...(sdkMetricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } } }
      : {}),
  });
  const config = loadIntegrationsFile(environment.integrationsFile);
  const connection = await NativeConnection.connect({ address: environment.temporalAddress });
  const metrics = createWorkerMetrics();
  try {
    const client = temporalClientFor(environment, connection);
    const workers = await createLetheWorker({ connection, client, environment, log, config, metrics });
    if (await ensureRetentionSchedule(client, { retention: config.retention, log }))
      log.info('retention sweep scheduled');
    log.info({ temporal: environment.temporalAddress, namespace: environment.namespace }, 'worker started');
    const health =
      healthPort === undefined
        ? undefined
        : serveHealth(workers, metrics, { host: environment.host, port: healthPort });
    // SIGINT/SIGTERM: the SDK stops polling, lets running activities finish (or hands them on), then run() returns.
    await workers.run().finally(() => health?.close());
  } finally {
    await connection.close();
  }
  log.info('worker stopped');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
