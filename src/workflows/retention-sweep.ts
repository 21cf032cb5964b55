import * as wf from '@temporalio/workflow';
import type { SweepActivities } from '../activities/retention-sweep';

const sweep = wf.proxyActivities<SweepActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
});

/**
 * Run by the retention schedule: purges the requests whose own workflow cannot (terminated, failed,
 * timed out) once their retention period is over. Answers how many it purged.
 */
export async function RetentionSweepWorkflow(input: { retention: string }): Promise<number> {
  const due = await sweep.requestsPastRetention(input.retention);
  for (const requestId of due) await sweep.forgetClosedRequest(requestId);
  return due.length;
}
