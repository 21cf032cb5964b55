import {
  ScheduleAlreadyRunning,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { RETENTION_SWEEP_SCHEDULE, TASK_QUEUE } from '../workflows/definitions';
import { RetentionSweepWorkflow } from '../workflows';

/** How often the sweep looks for requests past their retention whose own workflow cannot purge them. */
export const RETENTION_SWEEP_EVERY = '1h';

/**
 * Makes sure the retention sweep's schedule exists, with the configured retention; every worker
 * asks at start-up: the first one creates it, a later one with another retention updates it.
 * Answers whether this call created it.
 */
export async function ensureRetentionSchedule(
  client: Client,
  options: { retention: string; taskQueue?: string },
): Promise<boolean> {
  const action: ScheduleOptionsStartWorkflowAction<typeof RetentionSweepWorkflow> = {
    type: 'startWorkflow',
    workflowType: RetentionSweepWorkflow,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    args: [{ retention: options.retention }],
  };
  try {
    await client.schedule.create({
      scheduleId: RETENTION_SWEEP_SCHEDULE,
      spec: { intervals: [{ every: RETENTION_SWEEP_EVERY }] },
      // One sweep at a time; a sweep missed while the cluster was down runs once when it is back.
      policies: { overlap: 'SKIP', catchupWindow: '1 day' },
      action,
    });
    return true;
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(RETENTION_SWEEP_SCHEDULE);
  const current = await handle.describe();
  const args = current.action.type === 'startWorkflow' ? current.action.args : undefined;
  if (JSON.stringify(args) !== JSON.stringify(action.args))
    await handle.update((previous) => ({ ...previous, action }));
  return false;
}
