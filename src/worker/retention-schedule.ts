import {
  ScheduleAlreadyRunning,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { parseDuration } from '../domain';
import type { Logger } from '../infra/logger';
import { RETENTION_SWEEP_SCHEDULE, TASK_QUEUE } from '../workflows/definitions';
import { RetentionSweepWorkflow } from '../workflows';

/** How often the sweep looks for requests past their retention whose own workflow cannot purge them. */
export const RETENTION_SWEEP_EVERY = '1h';

/** How long Temporal keeps a closed request beyond Lethe's retention: the sweep must still find it. */
const SWEEP_MARGIN_SECONDS = 86_400;

/**
 * The sweep finds closed requests in Temporal's visibility, which forgets them after the
 * namespace's retention (24 h on a dev server and in the auto-setup image): the namespace must
 * keep them longer than Lethe's retention, or their data would never be purged. A shorter one is
 * lengthened; a worker that may not change it refuses to start, naming both values.
 */
export async function ensureNamespaceRetention(
  client: Client,
  retention: string,
  log?: Logger,
): Promise<void> {
  const { namespace } = client.options;
  const needed = Math.ceil(parseDuration(retention) / 1000) + SWEEP_MARGIN_SECONDS;
  const described = await client.workflowService.describeNamespace({ namespace });
  const kept = Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (kept >= needed) return;
  try {
    await client.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msToTs(needed * 1000) },
    });
  } catch (error) {
    throw new Error(
      `namespace ${namespace} keeps closed workflows ${kept} s, less than Lethe's retention (${retention}) and a day, and could not be changed: ${(error as Error).message}`,
    );
  }
  log?.warn({ namespace, from: kept, to: needed }, 'namespace retention lengthened to outlast Lethe’s');
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
