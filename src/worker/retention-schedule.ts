import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import { RETENTION_SWEEP_SCHEDULE, TASK_QUEUE } from '../workflows/definitions';

/** How often the sweep looks for requests past their retention whose own workflow cannot purge them. */
export const RETENTION_SWEEP_EVERY = '1h';

/**
 * Makes sure the retention sweep's schedule exists; every worker asks at start-up, the first one
 * creates it, the others find it. Answers whether this call created it.
 */
export async function ensureRetentionSchedule(
  client: Client,
  options: { retention: string; taskQueue?: string },
): Promise<boolean> {
  try {
    await client.schedule.create({
      scheduleId: RETENTION_SWEEP_SCHEDULE,
      spec: { intervals: [{ every: RETENTION_SWEEP_EVERY }] },
      // One sweep at a time; a sweep missed while the cluster was down runs once when it is back.
      policies: { overlap: 'SKIP', catchupWindow: '1 day' },
      action: {
        type: 'startWorkflow',
        workflowType: 'RetentionSweepWorkflow',
        taskQueue: options.taskQueue ?? TASK_QUEUE,
        args: [{ retention: options.retention }],
      },
    });
    return true;
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return false;
    throw error;
  }
}
