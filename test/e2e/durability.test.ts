import assert from 'node:assert/strict';
import { eventually } from '../support/http';
import { accessWithSlowCrmCall, ownerLinkIn, phaseOf, useStack } from '../support/lethe';

describe('durability: the worker stops in the middle of a request', function () {
  this.timeout(90_000);
  const suite = useStack();

  afterEach(async function () {
    // Whatever happened, later suites get a running worker.
    await suite.stack.stopWorker();
    await suite.stack.startWorker();
  });

  it('a new worker finishes the request; nothing is lost and no successful call is made again', async () => {
    const email = `durable-${Date.now()}@example.com`;
    for (let i = 0; i < 2; i++) {
      suite.stack.crm.contacts.set(`c_durable_${i}`, { id: `c_durable_${i}`, email, kind: 'note' });
    }
    const callsTo = (method: string, path: string) =>
      suite.stack.crm.calls.filter((c) => c.method === method && c.path === path && c.status < 300).length;
    const findsBefore = callsTo('GET', '/contacts');

    const created = await suite.lethe.create({
      type: 'deletion',
      subject: { email },
      integrations: ['crm', 'warehouse'],
    });
    await suite.lethe.untilIntegration(created.id, 'crm', 'access', {
      state: 'Complete',
      detail: '2 records found',
    });
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    assert.equal(callsTo('GET', '/contacts') - findsBefore, 1);

    await suite.stack.stopWorker();
    // With no worker, the request is still there: its state lives in Temporal, not in a process.
    const mail = await eventually(
      async () => suite.stack.smtp.inbox.find((m) => m.subject.includes(created.id)),
      (m) => m !== undefined,
      { what: 'the owner email' },
    );
    await suite.stack.startWorker();

    const reply = await fetch(ownerLinkIn(mail!.text), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ answer: 'no_data' }),
    });
    assert.equal(reply.status, 200);
    await suite.lethe.until(
      created.id,
      (r) => r.state === 'Data ready for deletion',
      'Data ready for deletion',
    );

    // Stop the worker again between the selection and the deletion.
    await suite.stack.stopWorker();
    const selection = suite.lethe.post(`/v1/requests/${created.id}/selection`, { integrations: ['crm'] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await suite.stack.startWorker();
    assert.equal((await selection).status, 200);

    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.equal(request.state, 'Data deleted');
    assert.deepEqual(phaseOf(request, 'crm', 'deletion'), { state: 'Complete', detail: '2 records deleted' });
    assert.deepEqual(phaseOf(request, 'warehouse', 'deletion'), {
      state: 'Complete',
      detail: 'Deletion skipped',
    });
    assert.equal(callsTo('GET', '/contacts') - findsBefore, 1, 'the records were looked up once');
    assert.equal(callsTo('DELETE', '/contacts/c_durable_0'), 1, 'each record deleted once');
    assert.equal(callsTo('DELETE', '/contacts/c_durable_1'), 1, 'each record deleted once');
    assert.equal(
      suite.stack.smtp.inbox.filter((m) => m.subject.includes(created.id)).length,
      1,
      'the owner was asked once (deletion not selected for them)',
    );
  });
});

describe('an integration workflow that fails outright', function () {
  this.timeout(60_000);
  const suite = useStack();

  it('cancelled from the Web UI during its call, it ends cancelled and shows Error / Lethe error', async () => {
    const created = await accessWithSlowCrmCall(suite, 'cancelled@example.com');
    const integration = suite.stack.temporal.client.workflow.getHandle(`${created.id}/crm/access`);
    await integration.cancel();
    await suite.lethe.untilIntegration(created.id, 'crm', 'access', {
      state: 'Error',
      detail: 'Lethe error',
    });
    assert.equal((await integration.describe()).status.name, 'CANCELLED');
    const events = (await integration.fetchHistory()).events ?? [];
    assert.equal(
      events.filter((e) => e.workflowTaskFailedEventAttributes).length,
      0,
      'no workflow task failed on the way (an unhandled rejection would fail every one)',
    );
  });

  it('shows Error / Lethe error, and a retry runs it again to the end', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'terminated@example.com' },
      integrations: ['warehouse'],
    });
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    await suite.stack.temporal.client.workflow
      .getHandle(`${created.id}/warehouse/access`)
      .terminate('test: an operator killed it');
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Error',
      detail: 'Lethe error',
    });

    const retried = await suite.lethe.post(`/v1/requests/${created.id}/integrations/warehouse/retry`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    const again = await suite.lethe.post(`/v1/requests/${created.id}/integrations/warehouse/retry`);
    assert.equal(again.status, 409, 'a second click is refused while the first retry runs');
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    const mails = await eventually(
      async () => suite.stack.smtp.inbox.filter((m) => m.subject.includes(created.id)),
      (found) => found.length === 2,
      { what: 'a second email to the owner' },
    );
    const reply = await fetch(ownerLinkIn(mails[1]!.text), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ answer: 'no_data' }),
    });
    assert.equal(reply.status, 200);
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Complete',
      detail: 'No files uploaded',
    });
    assert.equal(request.error, 'user not found');
  });
});
