import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics. Labels are integration ids, error messages of the taxonomy, states and
 * routes: names from the configuration and the contract, never anything about a subject.
 */
export interface WorkerMetrics {
  registry: Registry;
  integrationErrors: Counter<'integration' | 'message'>;
  connectorCallsInFlight: Gauge<'integration'>;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lethe_worker_' });
  return {
    registry,
    integrationErrors: new Counter({
      name: 'lethe_integration_errors_total',
      help: 'Failed connector calls, by integration and by the error taxonomy’s message',
      labelNames: ['integration', 'message'],
      registers: [registry],
    }),
    connectorCallsInFlight: new Gauge({
      name: 'lethe_integrations_in_flight',
      help: 'Connector calls running now, by integration',
      labelNames: ['integration'],
      registers: [registry],
    }),
  };
}

export interface ApiMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
}

/** How long a count of requests by state answers scrapes: each count is one Temporal query per state. */
const REQUEST_COUNT_MAX_AGE_MS = 5000;

/** The last answer while it is young enough, and one call at a time however many ask at once. */
function reusedFor<T>(maxAgeMs: number, produce: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || performance.now() - last.at > maxAgeMs) {
      const value = produce();
      last = { at: performance.now(), value };
      // A failed count is not kept: the next scrape asks again.
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}

/** `requestsByState` is asked when Prometheus scrapes (at most every few seconds): open requests by state. */
export function createApiMetrics(requestsByState: () => Promise<Record<string, number>>): ApiMetrics {
  const countByState = reusedFor(REQUEST_COUNT_MAX_AGE_MS, requestsByState);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lethe_api_' });
  new Gauge({
    name: 'lethe_requests',
    help: 'Privacy requests within their retention period, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      for (const [state, count] of Object.entries(await countByState())) this.set({ state }, count);
    },
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'lethe_api_http_request_duration_seconds',
      help: 'API answers, by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
