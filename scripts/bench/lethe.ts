import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { newEncryptionKey } from '../../src/infra/payload-codec';
import { freePort, startLetheProcess, untilPortOpen } from '../processes';

export const BENCH_API_KEY = 'bench-key';

/**
 * Lethe's worker and API, built, as processes of their own on the bench's Temporal: what the bench
 * measures is the product as it ships. Answers once both listen.
 */
export async function startBenchLethe(options: {
  temporalAddress: string;
  scratch: string;
  integrationsFile: string;
  workflowBundle: string;
  /** The bench's own variables: the services' credentials, say. */
  extra?: NodeJS.ProcessEnv;
  /** Every process started, for the bench to stop whatever happens. */
  children: ChildProcess[];
}): Promise<{ env: NodeJS.ProcessEnv; worker: ChildProcess; api: ChildProcess; apiUrl: string }> {
  const apiPort = await freePort();
  const healthPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    TEMPORAL_ADDRESS: options.temporalAddress,
    LETHE_DATA_DIR: path.join(options.scratch, 'data'),
    LETHE_INTEGRATIONS: options.integrationsFile,
    LETHE_API_KEYS: BENCH_API_KEY,
    LETHE_PORT: String(apiPort),
    LETHE_TOKEN_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    LETHE_ENCRYPTION_KEYS: `bench:${newEncryptionKey()}`,
    LETHE_RATE_LIMIT: '1000000',
    LETHE_WORKFLOW_BUNDLE: options.workflowBundle,
    LETHE_WORKER_HEALTH_PORT: String(healthPort),
    LOG_LEVEL: 'warn',
    ...options.extra,
  };
  const worker = startLetheProcess('worker', env, 'build');
  const api = startLetheProcess('api', env, 'build');
  options.children.push(worker, api);
  await untilPortOpen(apiPort, 'the API');
  await untilPortOpen(healthPort, 'the worker');
  return { env, worker, api, apiUrl: `http://127.0.0.1:${apiPort}` };
}
