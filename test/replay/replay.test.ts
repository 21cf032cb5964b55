import assert from 'node:assert/strict';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { Phase } from '../../src/domain';
import { integrationWorkflowId } from '../../src/workflows/definitions';
import { useStack } from '../support/lethe';
import { replayAgainstCurrentCode } from './fixtures';

/**
 * Histories of the main paths, made here, replay against the current workflow code: a change that
 * breaks determinism fails here. Only this suite's own requests are replayed, so it means the same
 * alone or after other suites; running.test.ts and legacy*.test.ts replay the committed histories.
 */
describe('replay of the histories of the main paths', function () {
  this.timeout(120_000);
  const suite = useStack();

  const AUTO_TYPES = ['access', 'portability', 'access_categories', 'deletion'] as const;

  /** Requests along the main paths, run until they close: their ids. */
  async function runMainPaths(): Promise<{ auto: string[]; manual: string }> {
    const { lethe } = suite;
    // A subject of its own per request, with records in the sandbox CRM: the deletion takes only its own.
    const unique = Date.now().toString(36);
    const auto = await Promise.all(
      AUTO_TYPES.map((type) => {
        const email = `replayed.${type}.${unique}@example.com`;
        for (const n of [1, 2])
          suite.stack.crm.contacts.set(`c_${type}_${unique}_${n}`, {
            id: `c_${type}_${unique}_${n}`,
            email,
            kind: 'contact',
          });
        return lethe.create({
          type,
          auto_process: true,
          subject: { email },
          integrations: ['crm', 'crm-stage2'],
        });
      }),
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
    const ids = { auto: auto.map((r) => r.id), manual: manual.id };
    for (const id of [...ids.auto, ids.manual]) await lethe.until(id, (r) => r.closed, `${id} to close`);
    return ids;
  }

  it('replays each request’s workflow and its integrations’ without a non-determinism error', async () => {
    const { stack } = suite;
    const { auto, manual } = await runMainPaths();
    const ids = [...auto, manual];
    const query = ids.map((id) => `RootWorkflowId = '${id}'`).join(' OR ');
    const workflows: WorkflowExecutionInfo[] = [];
    for await (const execution of stack.client.workflow.list({ query })) workflows.push(execution);
    // Every request, and each integration phase it ran (the manual one's stopped integration may have none).
    const ran = (id: string, integrations: string[], phases: Phase[]) =>
      integrations.flatMap((i) => phases.map((phase) => integrationWorkflowId(id, i, phase)));
    const expected = [
      ...ids,
      ...auto.flatMap((id, n) =>
        ran(id, ['crm', 'crm-stage2'], AUTO_TYPES[n] === 'deletion' ? ['access', 'deletion'] : ['access']),
      ),
      ...ran(manual, ['crm', 'warehouse'], ['access']),
    ];
    const listed = workflows.map((w) => w.workflowId);
    assert.deepEqual(
      expected.filter((id) => !listed.includes(id)),
      [],
      'every request and integration workflow is listed',
    );

    const histories = (async function* () {
      for (const w of workflows) {
        const handle = stack.client.workflow.getHandle(w.workflowId, w.runId);
        yield { workflowId: w.workflowId, history: await handle.fetchHistory() };
      }
    })();
    const { replayed, failures } = await replayAgainstCurrentCode(
      histories,
      stack.environment.encryptionKeys,
    );
    console.log(`      ${replayed} histories replayed (${ids.length} requests)`);
    assert.deepEqual(failures, []);
    assert.equal(replayed, workflows.length);
  });
});
