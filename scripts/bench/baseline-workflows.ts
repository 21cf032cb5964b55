import * as wf from '@temporalio/workflow';

/**
 * The benchmark's yardstick: the same shape of work as a deletion request (per integration, a
 * child workflow for access, then another for deletion, each with as many activities as Lethe's,
 * and as many activities in the request itself), with no product logic.
 */
const { noop } = wf.proxyActivities<{ noop(): Promise<number> }>({ startToCloseTimeout: '1 minute' });

export interface BaselineShape {
  integrations: number;
  activitiesPerChild: number;
  activitiesPerRequest: number;
}

export async function BaselineStepWorkflow(activities: number): Promise<void> {
  for (let i = 0; i < activities; i++) await noop();
}

export async function BaselineRequestWorkflow(shape: BaselineShape): Promise<void> {
  for (const phase of ['access', 'deletion']) {
    await Promise.all(
      Array.from({ length: shape.integrations }, (_, i) =>
        wf.executeChild(BaselineStepWorkflow, {
          workflowId: `${wf.workflowInfo().workflowId}/${i}/${phase}`,
          args: [shape.activitiesPerChild],
        }),
      ),
    );
  }
  for (let i = 0; i < shape.activitiesPerRequest; i++) await noop();
}
