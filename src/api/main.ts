import { Connection } from '@temporalio/client';
import { loadEnvironment } from '../config/environment';
import { loadIntegrationsFile } from '../config/integrations-file';
import { createLogger } from '../infra/logger';
import { createApp } from './app';
import { codecEndpointHint } from './codec';
import { composeApi } from './compose';

const SHUTDOWN_GRACE_MS = 10_000;

async function main() {
  // First: a production API without its secrets says which, before it starts anything.
  const environment = loadEnvironment();
  const log = createLogger('api', environment.logLevel);
  const config = loadIntegrationsFile(environment.integrationsFile);
  if (environment.apiKeys.length === 0) log.warn('LETHE_API_KEYS is empty: every /v1 call will be refused');
  if (environment.developmentEncryptionKey) {
    log.warn(
      'LETHE_ENCRYPTION_KEYS is not set: payloads are encrypted with a development key kept in the data folder',
    );
  }
  const connection = await Connection.connect({ address: environment.temporalAddress });
  const app = createApp(composeApi({ environment, config, connection, log }));
  const server = app.listen(environment.port, environment.host, (error?: Error) => {
    // Express 5 calls back with the error too: an API that cannot listen must not say it does.
    if (error) {
      log.fatal({ err: error }, 'the API cannot listen');
      process.exit(1);
    }
    log.info(
      {
        url: `http://${environment.host}:${environment.port}`,
        integrations: config.integrations.length,
        webUiCodecEndpoint: codecEndpointHint(environment.publicUrl, environment),
      },
      'API listening',
    );
  });
  // No new connections; requests in flight are answered, and their connections closed as they
  // fall idle (those still busy after the grace are cut); then the process leaves.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal (npm passes Ctrl-C on twice) must not cut the drain short.
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'API stopping');
    setInterval(() => server.closeIdleConnections(), 100).unref();
    setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    server.close(
      () =>
        void connection
          .close()
          .catch((error: unknown) => log.warn({ err: error }, 'closing the Temporal connection failed'))
          .finally(() => process.exit(0)),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
