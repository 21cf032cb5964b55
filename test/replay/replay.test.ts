import assert from 'node:assert/strict';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { encryptedDataConverter } from '../../src/infra/payload-codec';
import { useStack } from '../support/lethe';
import { workflowBundle } from '../support/stack';

/**
 * Histories of the main paths, made here, replay against the current workflow code: a change that
 * breaks determinism fails here, whatever else ran before (legacy.test.ts replays the committed ones).
 */
describe('replay of the histories of the main paths', function () {
  this.timeout(120_000);
  const suite = useStack();

  /** Requests along the main paths, run until they close: their ids. */
  async function runMainPaths(): Promise<string[]> {
    const { lethe } = suite;
    const auto = await Promise.all(
      (['access', 'portability', 'access_categories', 'deletion'] as const).map((type) =>
        lethe.create({
          type,
          auto_process: true,
          subject: { email: 'jane.doe@example.com' },
          integrations: ['crm', 'crm-stage2'],
        }),
      ),
    );
    // By hand: the owner answers, an integration is stopped, the operator selects.
    const manual = await lethe.create({
      type: 'access',
      subject: { email: 'sam.smith@example.com' },
      integrations: ['crm', 'warehouse', 'crm-manual'],
    });
    const answered = await lethe.answerAsOwner(manual.id, 'dana.owner@example.com', { answer: 'no_data' });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    const stopped = await lethe.post(`/v1/requests/${manual.id}/integrations/crm-manual/stop`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    await lethe.until(manual.id, (r) => r.state === 'Data accessed', 'Data accessed');
    const selected = await lethe.post(`/v1/requests/${manual.id}/selection`, { integrations: ['crm'] });
    assert.equal(selected.status, 200, JSON.stringify(selected.body));
    const ids = [...auto.map((r) => r.id), manual.id];
    for (const id of ids) await lethe.until(id, (r) => r.closed, `${id} to close`);
    return ids;
  }

  it('replays each request’s workflow and its integrations’ without a non-determinism error', async () => {
    const { stack } = suite;
    const ids = await runMainPaths();
    const own = ids.map((id) => `RootWorkflowId = '${id}'`).join(' OR ');
    // And whatever closed histories suites that ran before left (cancelled, reset, failed ones).
    const query = `${own} OR ExecutionStatus != "Running"`;
    const workflows: WorkflowExecutionInfo[] = [];
    for await (const execution of stack.client.workflow.list({ query })) workflows.push(execution);
    const children = workflows.filter(
      (w) => ids.includes(w.rootExecution?.workflowId ?? '') && !ids.includes(w.workflowId),
    );
    assert.deepEqual(
      ids.filter((id) => !workflows.some((w) => w.workflowId === id)),
      [],
      'every request workflow is listed',
    );
    // Integration workflows have finished: one per integration phase run.
    assert.ok(children.length >= 10, `${children.length} integration workflows`);

    const histories = (async function* () {
      for (const w of workflows) {
        const handle = stack.client.workflow.getHandle(w.workflowId, w.runId);
        yield { workflowId: w.workflowId, history: await handle.fetchHistory() };
      }
    })();
    let replayed = 0;
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      {
        workflowBundle: await workflowBundle(),
        dataConverter: encryptedDataConverter(stack.environment.encryptionKeys),
      },
      histories,
    )) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    console.log(`      ${replayed} histories replayed (${ids.length} requests)`);
    assert.deepEqual(failures, []);
    assert.equal(replayed, workflows.length);
  });
});
