import { rm } from 'node:fs/promises';
import path from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, HEARTBEAT_EVERY_MS } from '../activities';
import type { Environment } from '../config/environment';
import { DAY_MS } from '../domain';
import { blobStoreFor, requestsFolder } from '../config/blob-store';
import { checkRequestId } from '../infra/blob-store';
import { FileCallLog } from '../infra/call-log';
import { FileJournal } from '../infra/journal';
import type { Logger } from '../infra/logger';
import { encryptedDataConverter } from '../infra/payload-codec';
import { createMailer } from '../infra/mailer';
import { signOwnerToken } from '../infra/owner-token';
import { TASK_QUEUE } from '../workflows/definitions';

/** An owner may still answer late (a paused request waits for them), but not forever. */
export const OWNER_LINK_GRACE_MS = 30 * DAY_MS;

export interface LetheWorkerOptions {
  connection: NativeConnection;
  environment: Environment;
  log: Logger;
  /** Tests bundle the workflow code once per run and hand it to every worker they start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
}

export function createLetheActivities(environment: Environment, log: Logger) {
  // What is kept about one request on this disk sits in one folder, which retention removes whole.
  const requestsRoot = requestsFolder(environment);
  return createActivities({
    blobs: blobStoreFor(environment),
    callLog: new FileCallLog(requestsRoot),
    journal: new FileJournal(requestsRoot),
    deleteLocalRequestData: (requestId) =>
      rm(path.join(requestsRoot, checkRequestId(requestId)), { recursive: true, force: true }),
    mailer: createMailer({
      smtpUrl: environment.smtpUrl,
      outboxDir: path.join(environment.dataDir, 'outbox'),
      from: environment.mailFrom,
      log,
    }),
    secrets: (variable) => process.env[variable],
    ownerLink: ({ requestId, integrationId, phase, deadline }) => {
      const expiresAt = Math.floor((new Date(deadline).getTime() + OWNER_LINK_GRACE_MS) / 1000);
      const token = signOwnerToken({ requestId, integrationId, phase, expiresAt }, environment.tokenSecret);
      return `${environment.publicUrl}/owner/${token}`;
    },
    log,
  });
}

export async function createLetheWorker(options: LetheWorkerOptions): Promise<Worker> {
  const { connection, environment, log } = options;
  return Worker.create({
    connection,
    namespace: environment.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createLetheActivities(environment, log),
    dataConverter: encryptedDataConverter(environment.encryptionKeys),
    // Heartbeats carry a stop to a call in flight: sent every couple of seconds, not once a minute.
    maxHeartbeatThrottleInterval: HEARTBEAT_EVERY_MS,
  });
}
