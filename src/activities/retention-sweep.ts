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

/** One closed run of a request: a reset request has several, and only its latest may be purged. */
export interface ClosedRequestRun {
  requestId: string;
  runId: string;
}

/**
 * For requests whose workflow will never reach its own retention tail: terminated (from the Web UI
 * or the CLI), failed or timed out. Completed requests purged themselves.
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
    /** Requests closed without completing more than `retention` ago, and not yet purged. */
    async requestsPastRetention(retention: string): Promise<ClosedRequestRun[]> {
      const closedBefore = new Date(Date.now() - parseDuration(retention)).toISOString();
      const query = [
        `WorkflowType = '${PrivacyRequestWorkflow.name}'`,
        `ExecutionStatus != 'Running'`,
        `ExecutionStatus != 'Completed'`,
        `ExecutionStatus != 'ContinuedAsNew'`,
        `CloseTime < '${closedBefore}'`,
      ].join(' AND ');
      const due: ClosedRequestRun[] = [];
      for await (const execution of client.workflow.list({ query })) {
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
