import type { Client } from '@temporalio/client';
import { parseDuration, proofRecordOf, type RequestSnapshot } from '../domain';
import type { BlobStore } from '../infra/blob-store';
import { keepSweptProof, sweptProofOf } from '../infra/proof-store';
import type { Logger } from '../infra/logger';
import { getRequestQuery, REQUEST_MEMO } from '../workflows/definitions';
import { PrivacyRequestWorkflow } from '../workflows';

/** At most this many requests per sweep: the next sweep takes the rest. */
const SWEEP_PAGE = 500;

export interface SweepDependencies {
  client: Client;
  blobs: BlobStore;
  /** The request activities' purge: everything kept about the request, wherever it is kept. */
  purgeRequestData(requestId: string): Promise<void>;
  log: Logger;
}

/**
 * For requests whose workflow will never reach its own retention tail: terminated (from the Web UI
 * or the CLI), failed or timed out. Completed requests purged themselves.
 */
export function createSweepActivities({ client, blobs, purgeRequestData, log }: SweepDependencies) {
  return {
    /** Ids of requests closed without completing more than `retention` ago, and not yet purged. */
    async requestsPastRetention(retention: string): Promise<string[]> {
      const closedBefore = new Date(Date.now() - parseDuration(retention)).toISOString();
      const query = [
        `WorkflowType = '${PrivacyRequestWorkflow.name}'`,
        `ExecutionStatus != 'Running'`,
        `ExecutionStatus != 'Completed'`,
        `ExecutionStatus != 'ContinuedAsNew'`,
        `CloseTime < '${closedBefore}'`,
      ].join(' AND ');
      const due: string[] = [];
      for await (const execution of client.workflow.list({ query })) {
        if (!(await sweptProofOf(blobs, execution.workflowId))) due.push(execution.workflowId);
        if (due.length >= SWEEP_PAGE) break;
      }
      return due;
    },

    /** Purges one such request, then keeps its proof in the blob store: a second run finds it and stops. */
    async forgetClosedRequest(requestId: string): Promise<void> {
      if (await sweptProofOf(blobs, requestId)) return;
      const handle = client.workflow.getHandle(requestId);
      const { memo } = await handle.describe();
      const snapshot =
        (memo?.[REQUEST_MEMO] as RequestSnapshot | undefined) ?? (await handle.query(getRequestQuery));
      await purgeRequestData(requestId);
      const proof = proofRecordOf(snapshot, new Date().toISOString());
      await keepSweptProof(blobs, proof);
      log.info({ requestId }, 'closed request purged by the retention sweep');
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
