import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { DAY_MS, parseDuration } from '../domain/duration';
import { RETENTION_SWEEP_SCHEDULE, TASK_QUEUE } from '../workflows/definitions';

/** How often the sweep looks for requests past their retention whose own workflow cannot purge them. */
export const RETENTION_SWEEP_EVERY = '1h';

/**
 * How long Temporal must keep a closed request's workflow past the request's retention: the
 * sweep runs hourly and catches up on a day it missed, and it finds requests by their workflow.
 */
const KEPT_AFTER_RETENTION_MS = 2 * DAY_MS;

/**
 * Makes sure the retention sweep can do its work, with the configured retention; every worker
 * asks at start-up. The namespace keeps closed workflows longer than the retention (a request's
 * workflow completes when it closes: deleted by Temporal first, its data would never be swept),
 * and the schedule exists: the first worker creates it, a later one with another retention
 * updates it. Answers whether this call created the schedule.
 */
export async function ensureRetentionSchedule(
  client: Client,
  options: { retention: string; taskQueue?: string },
): Promise<boolean> {
  await ensureNamespaceKeepsClosedRequests(client, options.retention);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'RetentionSweepWorkflow',
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

async function ensureNamespaceKeepsClosedRequests(client: Client, retention: string): Promise<void> {
  const namespace = client.options.namespace;
  const needed = parseDuration(retention) + KEPT_AFTER_RETENTION_MS;
  const { config } = await client.workflowService.describeNamespace({ namespace });
  if (Number(config?.workflowExecutionRetentionTtl?.seconds ?? 0) * 1000 >= needed) return;
  const days = Math.ceil(needed / DAY_MS);
  try {
    await client.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msToTs(days * DAY_MS) },
    });
  } catch (error) {
    throw new Error(
      `namespace "${namespace}" deletes closed workflows before Lethe's retention (${retention}) ends, and could not be changed: ` +
        `run \`temporal operator namespace update --retention ${days}d ${namespace}\` (${String(error)})`,
    );
  }
}
