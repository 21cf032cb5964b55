import assert from 'node:assert/strict';
import { msToTs } from '@temporalio/common/lib/time';
import path from 'node:path';
import { FileBlobStore } from '../../src/infra/blob-store';
import { keepSweptProof, sweptProofOf } from '../../src/infra/proof-store';
import { RETENTION_SWEEP_SCHEDULE, TASK_QUEUE } from '../../src/workflows/definitions';
import { RetentionSweepWorkflow } from '../../src/workflows';
import { ensureRetentionSchedule } from '../../src/worker/retention-schedule';
import { filesHolding } from '../support/forgetting';
import { call, eventually } from '../support/http';
import { phaseOf, useStack } from '../support/lethe';

describe('retention sweep: a terminated request is purged when its retention ends (dev server)', function () {
  this.timeout(90_000);
  const suite = useStack();
  let sweeps = 0;
  const blobs = () => new FileBlobStore(path.join(suite.stack.dataDir, 'blobs'));
  const sweep = (retention: string) =>
    suite.stack.client.workflow.execute(RetentionSweepWorkflow, {
      workflowId: `test-retention-sweep-${Date.now()}-${sweeps++}`,
      taskQueue: TASK_QUEUE,
      args: [{ retention }],
    });

  after(async () => {
    await suite.stack.client.schedule
      .getHandle(RETENTION_SWEEP_SCHEDULE)
      .delete()
      .catch(() => undefined);
  });

  it('purges a request terminated from outside (its workflow never runs again), keeps its proof, and only once', async () => {
    const unique = Date.now().toString(36);
    const subject = {
      email: `swept.${unique}@example.com`,
      phone: `+1556${Date.now() % 10_000_000}`,
      custom_id: `swept-${unique}`,
      name: `Terminata ${unique}`,
    };
    const identifiers = Object.values(subject);
    suite.stack.crm.contacts.set(`c_${unique}`, { id: `c_${unique}`, email: subject.email, kind: 'contact' });
    const created = await suite.lethe.create({
      type: 'access',
      subject,
      integrations: ['crm', 'warehouse'],
    });
    await suite.lethe.untilIntegration(created.id, 'crm', 'access', {
      state: 'Complete',
      detail: '1 record found',
    });
    await suite.lethe.ownerMail(created.id, 'dana.owner@example.com');
    await suite.stack.client.workflow.getHandle(created.id).terminate('test: terminated from the Web UI');
    const dataDir = suite.stack.dataDir;
    assert.notDeepEqual(filesHolding(dataDir, identifiers), [], 'its records are kept');

    assert.equal(await sweep('30d'), 0, 'not before its retention ends');
    assert.notDeepEqual(filesHolding(dataDir, identifiers), []);

    // Visibility may list the termination a moment late: sweep until it is seen.
    await eventually(
      async () => {
        await sweep('1s');
        return filesHolding(dataDir, identifiers);
      },
      (left) => left.length === 0,
      { what: 'the sweep to purge the terminated request', timeoutMs: 30_000, intervalMs: 500 },
    );

    const res = await call(suite.stack.apiUrl, 'GET', `/v1/requests/${created.id}`);
    assert.equal(res.status, 200, 'the request answers from its proof');
    assert.ok(res.body.purged_at);
    assert.equal(res.body.data_url, null);
    assert.deepEqual(phaseOf(res.body, 'crm', 'access'), { state: 'Complete', detail: '1 record found' });
    for (const identifier of identifiers)
      assert.ok(!JSON.stringify(res.body).includes(identifier), `GET shows "${identifier}"`);

    await sweep('1s');
    const again = await call(suite.stack.apiUrl, 'GET', `/v1/requests/${created.id}`);
    assert.equal(again.body.purged_at, res.body.purged_at, 'a second sweep leaves it, and its proof, alone');

    // Temporal deletes closed workflows once the namespace's retention passes: the proof still answers.
    const proof = (await sweptProofOf(blobs(), created.id))!;
    const forgotten = `req_${'z'.repeat(26)}`;
    await keepSweptProof(blobs(), { ...proof, id: forgotten });
    const gone = await call(suite.stack.apiUrl, 'GET', `/v1/requests/${forgotten}`);
    assert.equal(gone.status, 200, 'a request whose workflow Temporal deleted answers from its proof');
    assert.equal(gone.body.purged_at, res.body.purged_at);
    assert.equal((await call(suite.stack.apiUrl, 'GET', `/v1/requests/req_${'y'.repeat(26)}`)).status, 404);
  });

  it('leaves a reset request alone: its terminated earlier run is not purged while the new run lives', async () => {
    const email = `reset-swept-${Date.now()}@example.com`;
    suite.stack.crm.contacts.set(`c_${email}`, { id: `c_${email}`, email, kind: 'contact' });
    const created = await suite.lethe.create({ type: 'access', subject: { email }, integrations: ['crm'] });
    await suite.lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    const handle = suite.stack.client.workflow.getHandle(created.id);
    const events = (await handle.fetchHistory()).events ?? [];
    const lastTask = events.filter((e) => e.workflowTaskCompletedEventAttributes).at(-1);
    await suite.stack.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: created.id },
      reason: 'test: reset while it waits for the selection',
      workflowTaskFinishEventId: lastTask!.eventId,
      requestId: `reset-swept-${created.id}`,
    });
    // The earlier run is terminated by the reset: visibility lists it, past a retention of 1 s.
    await eventually(
      () =>
        suite.stack.client.workflow.count(`WorkflowId = '${created.id}' AND ExecutionStatus = 'Terminated'`),
      ({ count }) => count === 1,
      { what: 'the earlier run to be listed as terminated', timeoutMs: 15_000, intervalMs: 250 },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await sweep('1s');
    assert.notDeepEqual(filesHolding(suite.stack.dataDir, [email]), [], 'the live run keeps its records');
    const selected = await suite.lethe.post(`/v1/requests/${created.id}/selection`, {
      integrations: ['crm'],
    });
    assert.equal(selected.status, 200, JSON.stringify(selected.body));
    const request = await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    assert.equal(request.closed_reason ?? null, null, 'the export was built from its records');
  });

  it('the worker creates the sweep’s schedule once, however many workers start, and keeps its retention current', async () => {
    await suite.stack.client.schedule
      .getHandle(RETENTION_SWEEP_SCHEDULE)
      .delete()
      .catch(() => undefined);
    const namespace = suite.stack.client.options.namespace;
    const keptFor = async () =>
      Number(
        (await suite.stack.client.workflowService.describeNamespace({ namespace })).config
          ?.workflowExecutionRetentionTtl?.seconds,
      ) / 86_400;
    // As a dev server or the auto-setup image starts: closed workflows kept a day.
    await suite.stack.client.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msToTs('1 day') },
    });
    assert.equal(await keptFor(), 1);
    assert.equal(await ensureRetentionSchedule(suite.stack.client, { retention: '30d' }), true);
    assert.equal(await keptFor(), 32, 'closed requests are kept past their retention, for the sweep to find');
    assert.equal(await ensureRetentionSchedule(suite.stack.client, { retention: '30d' }), false);
    const schedule = await suite.stack.client.schedule.getHandle(RETENTION_SWEEP_SCHEDULE).describe();
    assert.equal(schedule.action.type, 'startWorkflow');
    assert.equal(
      schedule.action.type === 'startWorkflow' && schedule.action.workflowType,
      'RetentionSweepWorkflow',
    );

    assert.equal(await ensureRetentionSchedule(suite.stack.client, { retention: '7d' }), false);
    const changed = await suite.stack.client.schedule.getHandle(RETENTION_SWEEP_SCHEDULE).describe();
    assert.deepEqual(
      changed.action.type === 'startWorkflow' && changed.action.args,
      [{ retention: '7d' }],
      'a new retention in the configuration reaches the schedule',
    );
  });
});
