import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, HEARTBEAT_EVERY_MS } from '../activities';
import { verifyIntegrations } from '../activities/connectors';
import { createSweepActivities } from '../activities/retention-sweep';
import type { Environment } from '../config/environment';
import { DAY_MS, type LetheConfig } from '../domain';
import { blobStoreFor } from '../config/blob-store';
import { checkRequestId } from '../infra/blob-store';
import { CallLog } from '../infra/call-log';
import { BlobJournal } from '../infra/journal';
import type { Logger } from '../infra/logger';
import type { WorkerMetrics } from '../infra/metrics';
import { encryptedDataConverter } from '../infra/payload-codec';
import { createMailer } from '../infra/mailer';
import { signOwnerToken } from '../infra/owner-token';
import { connectorTaskQueue, TASK_QUEUE } from '../workflows/definitions';
import type { IntegrationWorkflow } from '../workflows/integration';

/** An owner may still answer late (a paused request waits for them), but not forever. */
export const OWNER_LINK_GRACE_MS = 30 * DAY_MS;

export interface LetheWorkerOptions {
  connection: NativeConnection;
  /** The process's one Temporal client, on the same connection: what the sweep's activities ask. */
  client: Client;
  environment: Environment;
  log: Logger;
  /**
   * Tests bundle the workflow code once per run and hand it to every worker they start; otherwise
   * the environment's prebuilt bundle, or the workflow code bundled anew.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
  /** The integrations: each rate-limited one gets a worker on its own task queue. */
  config: LetheConfig;
  metrics?: WorkerMetrics;
}

export function createLetheActivities(
  environment: Environment,
  client: Client,
  log: Logger,
  metrics?: WorkerMetrics,
) {
  // Everything kept about a request (blobs, journal, call log) sits under its prefix in the blob
  // store, which retention removes whole.
  const blobs = blobStoreFor(environment);
  const requestActivities = createActivities({
    blobs,
    callLog: new CallLog(blobs),
    journal: new BlobJournal(blobs),
    mailer: createMailer({
      smtpUrl: environment.smtpUrl,
      outboxDir: path.join(environment.dataDir, 'outbox'),
      from: environment.mailFrom,
      log,
    }),
    forgetLocally: (requestId) =>
      rm(path.join(environment.dataDir, 'blobs', checkRequestId(requestId)), {
        recursive: true,
        force: true,
      }),
    secrets: environment.connectorSecrets,
    ownerLink: ({ requestId, integrationId, phase, deadline, linkId }) => {
      const expiresAt = Math.floor((new Date(deadline).getTime() + OWNER_LINK_GRACE_MS) / 1000);
      const token = signOwnerToken(
        { requestId, integrationId, phase, linkId, expiresAt },
        environment.tokenSecrets,
      );
      return `${environment.publicUrl}/owner/${token}`;
    },
    log,
    metrics,
    takeOverIntegration: async (workflowId) => {
      const handle = client.workflow.getHandle<typeof IntegrationWorkflow>(workflowId);
      const { status } = await handle.describe();
      if (status.name === 'COMPLETED') return { kind: 'completed', result: await handle.result() };
      // A reset does not end the earlier run's children: they would report to the new run alongside
      // the ones it starts.
      if (status.name !== 'RUNNING') return { kind: 'none' };
      await handle.terminate('its request was reset: the request’s new run starts it again');
      return { kind: 'terminated' };
    },
  });
  return {
    ...requestActivities,
    ...createSweepActivities({ client, blobs, purgeRequestData: requestActivities.purgeRequestData, log }),
  };
}

/**
 * The workers of one Lethe worker process: one for workflows and unlimited connector calls, and
 * one per rate-limited integration, on that integration's task queue, whose rate Temporal enforces
 * across every worker process.
 */
export class LetheWorkers {
  constructor(private readonly workers: Worker[]) {}

  async run(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.run()));
  }

  shutdown(): void {
    for (const worker of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }

  /** RUNNING while every worker polls. */
  getState(): string {
    const states = this.workers.map((w) => w.getState());
    return states.find((s) => s !== 'RUNNING') ?? 'RUNNING';
  }
}

export async function createLetheWorker(options: LetheWorkerOptions): Promise<LetheWorkers> {
  const { connection, client, environment, log, config } = options;
  // What the configuration names in the systems themselves (a database's tables and columns).
  const verified = await verifyIntegrations(config, environment.connectorSecrets);
  if (verified.problems.length > 0)
    throw new Error(`Invalid integrations configuration:\n  ${verified.problems.join('\n  ')}`);
  for (const { id, reason } of verified.unchecked)
    log.warn({ integration: id, reason }, 'integration not checked at start-up');
  const activities = createLetheActivities(environment, client, log, options.metrics);
  const common = {
    connection,
    namespace: environment.namespace,
    activities,
    dataConverter: encryptedDataConverter(environment.encryptionKeys),
    // Heartbeats carry a stop to a call in flight: sent every couple of seconds, not once a minute.
    maxHeartbeatThrottleInterval: HEARTBEAT_EVERY_MS,
  };
  const { maxCachedWorkflows, workflowBundle: bundleFile } = environment.worker;
  const workflowBundle = options.workflowBundle ?? (bundleFile ? { codePath: bundleFile } : undefined);
  const main = await Worker.create({
    ...common,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(maxCachedWorkflows ? { maxCachedWorkflows } : {}),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
  });
  const limited = await Promise.all(
    config.integrations.flatMap((integration) =>
      integration.type === 'api' && integration.rate_limit
        ? [
            Worker.create({
              ...common,
              taskQueue: connectorTaskQueue(integration.id),
              maxTaskQueueActivitiesPerSecond: integration.rate_limit.per_second,
              maxConcurrentActivityTaskExecutions: integration.rate_limit.concurrency,
            }),
          ]
        : [],
    ),
  );
  return new LetheWorkers([main, ...limited]);
}
