import assert from 'node:assert/strict';
import { ownerLinkIn, phaseOf, useStack } from '../support/lethe';

/** An access request and a deletion request, each with one API and one direct-contact integration, from POST to closed. */
describe('a privacy request from POST to closed', function () {
  this.timeout(60_000);
  const suite = useStack();

  async function seedContacts(email: string, count: number) {
    for (let i = 0; i < count; i++) {
      await fetch(`${suite.stack.crmUrl}/_sandbox/contacts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, kind: 'note', n: i }),
      });
    }
  }

  it('access: finds records, takes the owner’s files, waits for the selection, then closes', async () => {
    const email = `access-${Date.now()}@example.com`;
    await seedContacts(email, 3);

    const created = await suite.lethe.create({
      type: 'access',
      subject: { email },
      integrations: ['crm', 'warehouse'],
    });
    assert.match(created.id, /^req_[a-z0-9]{26}$/);
    assert.equal(created.state, 'Accessing data');
    assert.equal(created.status, 'pending');
    assert.equal(created.closed, false);
    assert.equal(created.regulation, 'gdpr');
    assert.equal(
      new Date(created.due_date).getTime() - new Date(created.request_date).getTime(),
      30 * 24 * 3600 * 1000,
    );
    assert.deepEqual(phaseOf(created, 'crm', 'access'), { state: 'Not Started', detail: null });
    assert.deepEqual(phaseOf(created, 'warehouse', 'access'), { state: 'Not Started', detail: null });
    assert.equal(phaseOf(created, 'crm', 'deletion'), null);

    await suite.lethe.untilIntegration(created.id, 'crm', 'access', {
      state: 'Complete',
      detail: '3 records found',
    });
    let request = await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    assert.equal(request.state, 'Accessing data');
    assert.equal(request.paused, false);

    const mail = await suite.lethe.ownerMail(created.id, 'dana.owner@example.com', 'access');
    assert.ok(mail, 'the owner got an email');
    assert.match(
      mail.text,
      new RegExp(email.replace('.', '\\.')),
      'the email names the subject to search for',
    );
    const reply = await fetch(ownerLinkIn(mail.text), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        answer: 'files',
        files: [
          { name: 'warehouse-export.csv', content_base64: Buffer.from('id,email\n1,x\n').toString('base64') },
        ],
      }),
    });
    assert.equal(reply.status, 200);

    request = await suite.lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    assert.equal(request.closed, false, 'waits for the selection');
    assert.equal(request.status, 'pending');
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Complete', detail: '3 records found' });
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Complete',
      detail: '1 file uploaded',
    });

    const selected = await suite.lethe.post(`/v1/requests/${created.id}/selection`, {
      integrations: ['crm', 'warehouse'],
    });
    assert.equal(selected.status, 200, JSON.stringify(selected.body));

    request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.equal(request.state, 'Data accessed');
    assert.equal(request.status, 'done');
    assert.equal(request.error, null);
    assert.deepEqual(request.selection, ['crm', 'warehouse']);
  });

  it('deletion: finds, waits for the selection, deletes, asks the owner to delete, then closes', async () => {
    const since = Date.now();
    const email = `deletion-${since}@example.com`;
    await seedContacts(email, 2);

    const created = await suite.lethe.create({
      type: 'deletion',
      regulation: 'ccpa',
      subject: { email, name: 'Del Etion' },
      integrations: ['crm', 'warehouse'],
    });
    assert.equal(created.state, 'Accessing data');
    assert.equal(
      new Date(created.due_date).getTime() - new Date(created.request_date).getTime(),
      45 * 24 * 3600 * 1000,
    );
    assert.deepEqual(phaseOf(created, 'crm', 'deletion'), { state: 'Not Started', detail: null });
    assert.deepEqual(phaseOf(created, 'warehouse', 'deletion'), { state: 'Not Started', detail: null });

    await suite.lethe.untilIntegration(created.id, 'crm', 'access', {
      state: 'Complete',
      detail: '2 records found',
    });
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    const accessMail = await suite.lethe.ownerMail(created.id, 'dana.owner@example.com', 'access');
    const noData = await fetch(ownerLinkIn(accessMail!.text), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ answer: 'no_data' }),
    });
    assert.equal(noData.status, 200);

    let request = await suite.lethe.until(
      created.id,
      (r) => r.state === 'Data ready for deletion',
      'Data ready for deletion',
    );
    assert.deepEqual(phaseOf(request, 'warehouse', 'access'), {
      state: 'Complete',
      detail: 'No files uploaded',
    });
    assert.deepEqual(phaseOf(request, 'crm', 'deletion'), { state: 'Pending', detail: null });
    assert.deepEqual(phaseOf(request, 'warehouse', 'deletion'), { state: 'Pending', detail: null });
    assert.equal(
      suite.stack.crm.calls.filter((c) => c.method === 'DELETE' && Date.parse(c.at) >= since).length,
      0,
      'nothing deleted before the selection',
    );

    const selected = await suite.lethe.post(`/v1/requests/${created.id}/selection`, {
      integrations: ['crm', 'warehouse'],
    });
    assert.equal(selected.status, 200, JSON.stringify(selected.body));
    assert.equal(selected.body.state, 'Deleting data');

    request = await suite.lethe.untilIntegration(created.id, 'crm', 'deletion', {
      state: 'Complete',
      detail: '2 records deleted',
    });
    assert.equal(
      [...suite.stack.crm.contacts.values()].filter((c) => c.email === email).length,
      0,
      'the CRM no longer holds them',
    );
    request = await suite.lethe.untilIntegration(created.id, 'warehouse', 'deletion', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    assert.equal(request.state, 'Deleting data');

    const deletionMail = await suite.lethe.ownerMail(created.id, 'dana.owner@example.com', 'deletion');
    const deleted = await fetch(ownerLinkIn(deletionMail!.text), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ answer: 'deleted' }),
    });
    assert.equal(deleted.status, 200);

    request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.equal(request.state, 'Data deleted');
    assert.equal(request.status, 'done');
    assert.deepEqual(phaseOf(request, 'crm', 'deletion'), { state: 'Complete', detail: '2 records deleted' });
    assert.deepEqual(phaseOf(request, 'warehouse', 'deletion'), {
      state: 'Complete',
      detail: 'Deletion done',
    });
  });
});
