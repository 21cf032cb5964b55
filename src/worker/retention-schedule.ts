import {
  ScheduleAlreadyRunning,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { DAY_MS, parseDuration } from '../domain';
import type { Logger } from '../infra/logger';
import { RETENTION_SWEEP_SCHEDULE, TASK_QUEUE } from '../workflows/definitions';
import { RetentionSweepWorkflow } from '../workflows';

/** How often the sweep looks for requests past their retention whose own workflow cannot purge them. */
export const RETENTION_SWEEP_EVERY = '1h';

/**
 * How long Temporal must keep a closed request's workflow past the request's retention: the
 * sweep runs hourly and catches up on a day it missed, and it finds requests by their workflow.
 */
const KEPT_AFTER_RETENTION_MS = 2 * DAY_MS;

/**
 * The sweep finds closed requests in Temporal's visibility, which forgets them after the
 * namespace's retention (24 h on a dev server and in the auto-setup image): a request's workflow
 * completes when it closes, and deleted by Temporal first, its data would never be swept. A
 * shorter retention is lengthened; a worker that may not change it refuses to start and says how.
 */
export async function ensureNamespaceRetention(
  client: Client,
  retention: string,
  log?: Logger,
): Promise<void> {
  const { namespace } = client.options;
  const needed = parseDuration(retention) + KEPT_AFTER_RETENTION_MS;
  const { config } = await client.workflowService.describeNamespace({ namespace });
  const kept = Number(config?.workflowExecutionRetentionTtl?.seconds ?? 0) * 1000;
  if (kept >= needed) return;
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
  log?.warn(
    { namespace, fromDays: kept / DAY_MS, toDays: days },
    'namespace retention lengthened to outlast Lethe’s',
  );
}

/**
 * Makes sure the retention sweep's schedule exists, with the configured retention, and that the
 * namespace keeps closed requests long enough for it; every worker
 * asks at start-up: the first one creates it, a later one with another retention updates it.
 * Answers whether this call created it.
 */
export async function ensureRetentionSchedule(
  client: Client,
  options: { retention: string; taskQueue?: string; log?: Logger },
): Promise<boolean> {
  await ensureNamespaceRetention(client, options.retention, options.log);
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
