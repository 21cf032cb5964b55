import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { encryptedDataConverter } from '../../src/infra/payload-codec';
import { getStack, workflowBundle } from '../support/stack';

/**
 * Every history the other suites produced replays against the current workflow code. Runs last
 * (see .mocharc.json), so a change that breaks determinism fails here.
 */
describe('replay of the histories produced by the tests', function () {
  this.timeout(120_000);

  it('replays every workflow without a non-determinism error', async () => {
    const stack = await getStack();
    // Listed with Lethe's codec: a closed request's memo (a terminated one's) is encrypted.
    const histories = stack.client.workflow.list({ query: 'ExecutionStatus != "Running"' }).intoHistories();
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
    assert.deepEqual(failures, []);
    assert.ok(replayed >= 10, `replayed ${replayed} histories`);
  });
});
