import * as wf from '@temporalio/workflow';
import type { SweepActivities } from '../activities/retention-sweep';
import { parseDuration } from '../domain/duration';

const sweep = wf.proxyActivities<SweepActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
});

/**
 * Run by the retention schedule: purges the requests closed longer ago than their retention
 * period (completed as they closed, or terminated, failed, timed out). Answers how many it purged.
 * The period is counted on the workflow's clock, which is the server's.
 */
export async function RetentionSweepWorkflow(input: { retention: string }): Promise<number> {
  const closedBefore = new Date(Date.now() - parseDuration(input.retention)).toISOString();
  const due = await sweep.requestsPastRetention(closedBefore);
  for (const requestId of due) await sweep.forgetClosedRequest(requestId);
  return due.length;
}
