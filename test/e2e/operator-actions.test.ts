import assert from 'node:assert/strict';
import { call } from '../support/http';
import { phaseOf, useStack } from '../support/lethe';

describe('operators stop integrations, and late owners are still heard', function () {
  this.timeout(60_000);
  const suite = useStack();

  const answer = (requestId: string, ownerEmail: string, body: unknown, phase?: 'access' | 'deletion') =>
    suite.lethe.answerAsOwner(requestId, ownerEmail, body, phase);

  it('stops an integration of a later stage before it runs, and an API call in the deletion phase', async () => {
    const email = `stops-${Date.now()}@example.com`;
    for (let i = 0; i < 2; i++) {
      await call(suite.stack.crmUrl, 'POST', '/_sandbox/contacts', {
        body: { email, kind: 'note' },
        key: null,
      });
    }
    const created = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { email },
      integrations: ['crm', 'crm-stage2', 'warehouse'],
    });
    await suite.lethe.untilIntegration(created.id, 'warehouse', 'access', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    const early = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm-stage2/stop`);
    assert.equal(early.status, 200, JSON.stringify(early.body));
    assert.deepEqual(phaseOf(early.body, 'crm-stage2', 'access'), {
      state: 'Complete',
      detail: 'Stopped processing',
    });

    // The deletion call will hang for a while: stop it while it is submitted.
    await call(suite.stack.crmUrl, 'POST', '/_sandbox/faults', {
      body: { method: 'DELETE', delay_ms: 3000, times: 1 },
      key: null,
    });
    assert.equal((await answer(created.id, 'dana.owner@example.com', { answer: 'no_data' })).status, 200);
    await suite.lethe.untilIntegration(created.id, 'crm', 'deletion', {
      state: 'Processing',
      detail: 'Request submitted',
    });
    const stopped = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm/stop`);
    assert.equal(stopped.status, 200);
    assert.deepEqual(phaseOf(stopped.body, 'crm', 'deletion'), {
      state: 'Complete',
      detail: 'Stopped processing',
    });
    const again = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm/stop`);
    assert.equal(again.status, 409, 'a complete integration cannot be stopped again');

    const request = await suite.lethe.untilIntegration(created.id, 'warehouse', 'deletion', {
      state: 'Processing',
      detail: 'Due in 14 days',
    });
    assert.deepEqual(phaseOf(request, 'crm-stage2', 'access'), {
      state: 'Complete',
      detail: 'Stopped processing',
    });
    // The first email's link is for the access phase, which no longer waits for an answer: it is
    // refused before its body is read, so even a deletion answer that does not fit it is a 409.
    const wrongPhase = await answer(created.id, 'dana.owner@example.com', { answer: 'deleted' }, 'access');
    assert.equal(wrongPhase.status, 409);
    const tooLate = await answer(created.id, 'dana.owner@example.com', { answer: 'no_data' }, 'access');
    assert.equal(tooLate.status, 409);
  });

  it('takes a late answer from an owner configured to skip, while the phase is still open', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'late-skip@example.com' },
      integrations: ['quick-skip', 'warehouse'],
    });
    await suite.lethe.untilIntegration(created.id, 'quick-skip', 'access', {
      state: 'Processing',
      detail: 'Access skipped (no response)',
    });
    const late = await answer(created.id, 'quick-skip.owner@example.com', {
      answer: 'files',
      files: [{ name: 'late.csv', content_base64: Buffer.from('a,b\n').toString('base64') }],
    });
    assert.equal(late.status, 200, JSON.stringify(late.body));
    let request = await suite.lethe.untilIntegration(created.id, 'quick-skip', 'access', {
      state: 'Complete',
      detail: '1 file uploaded',
    });
    assert.equal(request.state, 'Accessing data', 'the warehouse still holds the phase open');
    assert.equal((await answer(created.id, 'dana.owner@example.com', { answer: 'no_data' })).status, 200);
    request = await suite.lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    assert.deepEqual(phaseOf(request, 'quick-skip', 'access'), {
      state: 'Complete',
      detail: '1 file uploaded',
    });
  });
});
