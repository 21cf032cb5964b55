import * as wf from '@temporalio/workflow';
import type { SweepActivities } from '../activities/retention-sweep';
import { parseDuration } from '../domain/duration';

const sweep = wf.proxyActivities<SweepActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
});

/** One request that cannot be purged now must not hold back the others: the next sweep tries it again. */
const { forgetClosedRequest } = wf.proxyActivities<SweepActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Run by the retention schedule: purges the requests closed longer ago than their retention
 * period (completed as they closed, or terminated, failed, timed out). Answers how many it purged.
 * The period is counted on the workflow's clock, which is the server's.
 */
export async function RetentionSweepWorkflow(input: { retention: string }): Promise<number> {
  const closedBefore = new Date(Date.now() - parseDuration(input.retention)).toISOString();
  const due = await sweep.requestsPastRetention(closedBefore);
  let purged = 0;
  for (const run of due) {
    try {
      await forgetClosedRequest(run);
      purged++;
    } catch (error) {
      if (!(error instanceof wf.ActivityFailure)) throw error;
      wf.log.warn('closed request not purged: the next sweep tries again', { requestId: run.requestId });
    }
  }
  return purged;
}
