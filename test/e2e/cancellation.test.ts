import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { encryptedDataConverter } from '../../src/infra/payload-codec';
import { dataLeftOf } from '../support/forgetting';
import { call, eventually } from '../support/http';
import { accessWithSlowCrmCall, LetheApi, phaseOf, sweepRetention, useStack } from '../support/lethe';
import { getStack, workflowBundle, type Stack } from '../support/stack';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const RESET_CAUSE = temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW;

async function eventsOf(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** Workflow tasks that failed, but for the one a reset writes on purpose. */
function failedTasks(events: HistoryEvent[]): HistoryEvent[] {
  return events.filter(
    (e) => e.workflowTaskFailedEventAttributes && e.workflowTaskFailedEventAttributes.cause !== RESET_CAUSE,
  );
}

/** A request cancelled from outside Lethe (the Web UI's "Request Cancellation", `temporal workflow cancel`). */
describe('cancellation from the Temporal Web UI or CLI', function () {
  this.timeout(60_000);
  const suite = useStack();

  it('during an integration’s call: the call stops, the request closes as cancelled, actions answer 409', async () => {
    const created = await accessWithSlowCrmCall(suite, 'cancel-request@example.com');
    const handle = suite.stack.client.workflow.getHandle(created.id);
    await handle.cancel();

    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.equal(request.status, 'done');
    assert.equal(request.state, 'Accessing data', 'it shows where it stopped, not "sent"');
    assert.match(request.closed_reason ?? '', /cancelled/i);
    assert.equal(request.error, null);
    assert.equal(request.data_url, null);
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Complete', detail: 'Stopped processing' });
    const child = suite.stack.client.workflow.getHandle(`${created.id}/crm/access`);
    assert.equal((await child.describe()).status.name, 'CANCELLED', 'the integration in flight was stopped');

    const stop = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm/stop`);
    assert.equal(stop.status, 409, JSON.stringify(stop.body));
    assert.equal(stop.body.error.name, 'INVALID_STATE');
    assert.equal((await handle.describe()).status.name, 'COMPLETED', 'closed, its workflow completes');
    assert.deepEqual(failedTasks(await eventsOf(handle)), [], 'no workflow task failed');
    // A cancelled history replays too, right after it closed.
    await Worker.runReplayHistory(
      {
        workflowBundle: await workflowBundle(),
        dataConverter: encryptedDataConverter(suite.stack.environment.encryptionKeys),
      },
      await handle.fetchHistory(),
      created.id,
    );
  });

  it('cancelled while waiting for the selection, its data is deleted when its retention ends and only its proof remains', async () => {
    const { stack, lethe } = suite;
    const created = await lethe.create({
      type: 'access',
      subject: { email: 'cancelled.waiting@example.com' },
      integrations: ['crm'],
    });
    await lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    const folder = path.join(stack.dataDir, 'blobs', created.id);
    assert.ok(existsSync(folder));

    await stack.client.workflow.getHandle(created.id).cancel();
    const request = await lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.match(request.closed_reason ?? '', /cancelled/i);
    assert.equal(request.data_url, null, 'a cancelled request sends nothing');

    await sweepRetention(stack, '30d');
    assert.ok(existsSync(folder), 'kept within its retention');
    const res = await eventually(
      async () => {
        await sweepRetention(stack, '1s');
        return call(stack.apiUrl, 'GET', `/v1/requests/${created.id}`);
      },
      (r) => r.status === 200 && r.body.purged_at !== null,
      { what: 'the request to be purged', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.match(res.body.closed_reason ?? '', /cancelled/i, 'the proof says why it closed');
    assert.ok(!JSON.stringify(res.body).includes('cancelled.waiting@example.com'), 'nothing of the subject');
    assert.deepEqual(dataLeftOf(path.join(stack.dataDir, 'blobs'), created.id), [], 'its data deleted');
  });

  it('after one integration’s workflow was terminated: it shows Error, then the request closes as cancelled', async () => {
    const created = await suite.lethe.create({
      type: 'deletion',
      subject: { email: 'cancel-terminated@example.com' },
      integrations: ['warehouse', 'crm'],
    });
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    const integration = suite.stack.client.workflow.getHandle(`${created.id}/warehouse/access`);
    await integration.terminate('test: someone terminated it in the Web UI');
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Error',
      detail: 'Lethe error',
    });
    const handle = suite.stack.client.workflow.getHandle(created.id);
    assert.deepEqual(failedTasks(await eventsOf(handle)), [], 'a terminated integration fails no task');

    await handle.cancel();
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.equal(request.state, 'Accessing data', 'never "Data deleted": nothing was deleted');
    assert.match(request.closed_reason ?? '', /cancelled/i);
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Complete',
      detail: 'Stopped processing',
    });
    assert.deepEqual(phaseOf(request, 'warehouse', 'deletion'), {
      state: 'Complete',
      detail: 'Stopped processing',
    });
    assert.deepEqual(failedTasks(await eventsOf(handle)), [], 'no workflow task failed');
  });
});

describe('the selection is answered once recorded; every activity has a bound', function () {
  this.timeout(60_000);
  const suite = useStack();

  it('an access request answers POST /selection while its package is still being built', async () => {
    const email = `selection-${Date.now()}@example.com`;
    suite.stack.crm.contacts.set(`c_selection`, { id: 'c_selection', email, kind: 'note' });
    const created = await suite.lethe.create({ type: 'access', subject: { email }, integrations: ['crm'] });
    await suite.lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');

    // The records' blob goes missing for a while: the package cannot be built until it is back.
    const folder = path.join(suite.stack.dataDir, 'blobs', created.id);
    const [records] = readdirSync(folder).filter((f) => f.endsWith('.jsonl'));
    assert.ok(records, 'the records found are kept');
    renameSync(path.join(folder, records), path.join(folder, `${records}.away`));
    const started = Date.now();
    const selected = await call(suite.stack.apiUrl, 'POST', `/v1/requests/${created.id}/selection`, {
      body: { integrations: ['crm'] },
    });
    assert.equal(selected.status, 200, JSON.stringify(selected.body));
    assert.ok(Date.now() - started < 5_000, 'answered without waiting for the package');
    assert.deepEqual(selected.body.selection, ['crm']);
    assert.equal(selected.body.state, 'Data accessed');
    assert.equal(selected.body.closed, false, 'not sent yet');
    assert.equal(selected.body.data_url, null);

    renameSync(path.join(folder, `${records}.away`), path.join(folder, records));
    const closed = await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the package');
    assert.equal(closed.closed_reason, null);

    const handle = suite.stack.client.workflow.getHandle(created.id);
    const scheduled = [
      ...(await eventsOf(handle)),
      ...(await eventsOf(suite.stack.client.workflow.getHandle(`${created.id}/crm/access`))),
    ].flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
    );
    assert.ok(scheduled.length >= 2);
    for (const activity of scheduled) {
      const name = activity.activityType?.name;
      assert.ok(Number(activity.startToCloseTimeout?.seconds ?? 0) > 0, `${name} has a startToClose`);
      assert.ok(Number(activity.retryPolicy?.maximumAttempts ?? 0) > 0, `${name} has a maximum of attempts`);
    }
    const exportTask = scheduled.find((a) => a.activityType?.name === 'buildExport');
    assert.ok(Number(exportTask?.heartbeatTimeout?.seconds ?? 0) > 0, 'buildExport heartbeats');
  });
});

describe('a reset request workflow (the Web UI’s "Reset")', function () {
  this.timeout(60_000);
  const suite = useStack();

  it('does not run an integration that had finished again: it takes the finished one’s result', async () => {
    const email = `reset-${Date.now()}@example.com`;
    for (let i = 0; i < 2; i++) {
      suite.stack.crm.contacts.set(`c_reset_${i}`, { id: `c_reset_${i}`, email, kind: 'note' });
    }
    const created = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { email },
      integrations: ['crm'],
    });
    await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    const handle = suite.stack.client.workflow.getHandle(created.id);
    const firstTask = (await eventsOf(handle)).find((e) => e.workflowTaskCompletedEventAttributes);
    const { stack } = suite;
    const { runId } = await stack.temporal.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: created.id },
      reason: 'test: an operator resets the request to its start',
      workflowTaskFinishEventId: firstTask!.eventId,
      requestId: `reset-${created.id}`,
    });
    const reset = stack.client.workflow.getHandle(created.id, runId!);
    await eventually(
      async () => (await reset.query('getRequest')) as { step: string },
      (snapshot) => snapshot.step === 'closed',
      { what: 'the reset run to close', timeoutMs: 30_000 },
    );
    const request = await suite.lethe.get(created.id);
    assert.equal(request.state, 'Data deleted');
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Complete', detail: '2 records found' });
    assert.deepEqual(phaseOf(request, 'crm', 'deletion'), { state: 'Complete', detail: '2 records deleted' });
    for (const phase of ['access', 'deletion']) {
      const runs = await stack.temporal.client.workflow.count(`WorkflowId = '${created.id}/crm/${phase}'`);
      assert.equal(runs.count, 1, `${phase} ran once`);
    }
    assert.deepEqual(failedTasks(await eventsOf(reset)), [], 'no workflow task failed');
  });
});

describe('a request workflow reset while an owner is asked', function () {
  this.timeout(60_000);
  const suite = useStack();

  it('ends the integration with the old run, and asks the owner again from the new one', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'reset-in-flight@example.com' },
      integrations: ['warehouse'],
    });
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    await suite.lethe.ownerMail(created.id, 'dana.owner@example.com', 'access');
    const { stack } = suite;
    const handle = stack.client.workflow.getHandle(created.id);
    const oldRun = (await handle.describe()).runId;
    const firstTask = (await eventsOf(handle)).find((e) => e.workflowTaskCompletedEventAttributes);
    await stack.temporal.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: created.id, runId: oldRun },
      reason: 'test: an operator resets a request in flight',
      workflowTaskFinishEventId: firstTask!.eventId,
      requestId: `reset-${created.id}`,
    });
    const runs = await eventually(
      async () =>
        (await stack.temporal.client.workflow.count(`WorkflowId = '${created.id}/warehouse/access'`)).count,
      (count) => count === 2,
      { what: 'a second run of the integration' },
    );
    assert.equal(runs, 2);
    const mails = await eventually(
      async () => stack.smtp.inbox.filter((m) => m.subject.includes(created.id)),
      (found) => found.length === 2,
      { what: 'the owner asked again' },
    );
    assert.equal(mails.length, 2);
    const reply = await suite.lethe.answerAsOwner(created.id, 'dana.owner@example.com', {
      answer: 'no_data',
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const request = await suite.lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Complete',
      detail: 'No files uploaded',
    });
    const child = stack.client.workflow.getHandle(`${created.id}/warehouse/access`);
    assert.equal((await child.describe()).status.name, 'COMPLETED');
    assert.deepEqual(failedTasks(await eventsOf(stack.client.workflow.getHandle(created.id))), []);
  });
});

describe('requests that close early, on the time-skipping server', function () {
  this.timeout(60_000);
  let stack: Stack;
  let lethe: LetheApi;
  before(async function () {
    this.timeout(120_000);
    stack = await getStack('time-skipping');
    lethe = new LetheApi(stack);
  });

  it('an access request whose package cannot be built closes after its tries, and says so', async () => {
    const email = `no-package-${Date.now()}@example.com`;
    stack.crm.contacts.set('c_no_package', { id: 'c_no_package', email, kind: 'note' });
    const created = await lethe.create({ type: 'access', subject: { email }, integrations: ['crm'] });
    await lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    const folder = path.join(stack.dataDir, 'blobs', created.id);
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.jsonl'))) {
      renameSync(path.join(folder, file), path.join(folder, `${file}.away`));
    }
    const selected = await call(stack.apiUrl, 'POST', `/v1/requests/${created.id}/selection`, {
      body: { integrations: ['crm'] },
    });
    assert.equal(selected.status, 200, JSON.stringify(selected.body));

    await stack.temporal.sleep('6 hours');
    const request = await lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.equal(request.state, 'Data accessed');
    assert.match(request.closed_reason ?? '', /could not be built/);
    assert.equal(request.data_url, null);
    const handle = stack.client.workflow.getHandle(created.id);
    assert.equal((await handle.describe()).status.name, 'COMPLETED', 'closed, its workflow completes');
  });
});
