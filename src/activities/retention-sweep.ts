import type { Client } from '@temporalio/client';
import {
  DURATION_PATTERN,
  parseDuration,
  proofRecordOf,
  recordOf,
  type RequestRecord,
  type RequestSnapshot,
} from '../domain';
import type { BlobStore } from '../infra/blob-store';
import { keepSweptProof, sweptProofOf } from '../infra/proof-store';
import type { Logger } from '../infra/logger';
import { getRequestQuery, PROOF_MEMO, RECORD_MEMO, REQUEST_MEMO } from '../workflows/definitions';

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
 * Deletes the data of requests whose retention period is over: their workflow completed when
 * they closed (or was terminated, failed, timed out). Requests that slept out their period on
 * earlier code purged themselves, and hold their proof in their memo.
 */
export function createSweepActivities({ client, blobs, purgeRequestData, log }: SweepDependencies) {
  return {
    /**
     * Ids of requests closed before `closedBefore` (ISO 8601), and not yet purged. A sweep started
     * before the workflow counted the period passes the retention itself ("30d"): counted from now.
     */
    async requestsPastRetention(closedBefore: string): Promise<string[]> {
      if (DURATION_PATTERN.test(closedBefore))
        closedBefore = new Date(Date.now() - parseDuration(closedBefore)).toISOString();
      if (Number.isNaN(Date.parse(closedBefore))) throw new Error(`not a time: ${closedBefore}`);
      const query = [
        `WorkflowType = 'PrivacyRequestWorkflow'`,
        `ExecutionStatus != 'Running'`,
        `ExecutionStatus != 'ContinuedAsNew'`,
        `CloseTime < '${closedBefore}'`,
      ].join(' AND ');
      const due: string[] = [];
      for await (const execution of client.workflow.list({ query })) {
        if (execution.memo?.[PROOF_MEMO]) continue;
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
      const record =
        (memo?.[RECORD_MEMO] as RequestRecord | undefined) ??
        recordOf(
          (memo?.[REQUEST_MEMO] as RequestSnapshot | undefined) ?? (await handle.query(getRequestQuery)),
        );
      await purgeRequestData(requestId);
      const proof = proofRecordOf(record, new Date().toISOString());
      await keepSweptProof(blobs, proof);
      log.info({ requestId }, 'closed request purged by the retention sweep');
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
