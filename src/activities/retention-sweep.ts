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
import { PrivacyRequestWorkflow } from '../workflows';
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

/** One closed run of a request: a reset request has several, and only its latest may be purged. */
export interface ClosedRequestRun {
  requestId: string;
  runId: string;
}

/**
 * Deletes the data of requests whose retention period is over: their workflow completed when
 * they closed (or was terminated, failed, timed out). Requests that slept out their period on
 * earlier code purged themselves, and hold their proof in their memo.
 */
export function createSweepActivities({ client, blobs, purgeRequestData, log }: SweepDependencies) {
  /**
   * Whether this run is the request's last and is over: a request reset after it ended (or while
   * it ran) lives on in a newer run, which owns the data and its retention.
   */
  async function isLatestAndClosed({ requestId, runId }: Partial<ClosedRequestRun>): Promise<boolean> {
    const latest = await client.workflow.getHandle(requestId as string).describe();
    return latest.status.name !== 'RUNNING' && (runId === undefined || latest.runId === runId);
  }

  return {
    /**
     * Requests closed before `closedBefore` (ISO 8601), and not yet purged. A sweep started
     * before the workflow counted the period passes the retention itself ("30d"): counted from now.
     */
    async requestsPastRetention(closedBefore: string): Promise<ClosedRequestRun[]> {
      if (DURATION_PATTERN.test(closedBefore))
        closedBefore = new Date(Date.now() - parseDuration(closedBefore)).toISOString();
      if (Number.isNaN(Date.parse(closedBefore))) throw new Error(`not a time: ${closedBefore}`);
      const query = [
        `WorkflowType = '${PrivacyRequestWorkflow.name}'`,
        `ExecutionStatus != 'Running'`,
        `ExecutionStatus != 'ContinuedAsNew'`,
        `CloseTime < '${closedBefore}'`,
      ].join(' AND ');
      const due: ClosedRequestRun[] = [];
      for await (const execution of client.workflow.list({ query })) {
        if (execution.memo?.[PROOF_MEMO]) continue;
        const run = { requestId: execution.workflowId, runId: execution.runId };
        if (!(await sweptProofOf(blobs, run.requestId)) && (await isLatestAndClosed(run))) due.push(run);
        if (due.length >= SWEEP_PAGE) break;
      }
      return due;
    },

    /**
     * Purges one such request, then keeps its proof in the blob store: a second run finds it and
     * stops. A sweep scheduled before runs were named passes the request's id alone.
     */
    async forgetClosedRequest(run: ClosedRequestRun | string): Promise<void> {
      const { requestId, runId } = typeof run === 'string' ? { requestId: run, runId: undefined } : run;
      if (await sweptProofOf(blobs, requestId)) return;
      if (!(await isLatestAndClosed({ requestId, runId }))) {
        log.info({ requestId }, 'request running again since it closed: left to its own retention');
        return;
      }
      const handle = client.workflow.getHandle(requestId, runId);
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
