import assert from 'node:assert/strict';
import { LetheApi, phaseOf } from '../support/lethe';
import { getStack } from '../support/stack';

/** Direct contacts whose owners do not answer by the deadline (2 s here; days on the time-skipping server). */
describe('a direct contact past its deadline', function () {
  this.timeout(60_000);
  let lethe: LetheApi;

  before(async function () {
    this.timeout(120_000);
    lethe = new LetheApi(await getStack());
  });

  it('skip: shows "Access skipped (no response)", the request goes on, and the phase closes it as Complete', async () => {
    const created = await lethe.create({
      type: 'access',
      subject: { email: 'skip@example.com' },
      integrations: ['quick-skip', 'quick-pause'],
    });
    let request = await lethe.untilIntegration(created.id, 'quick-skip', 'access', {
      state: 'Processing',
      detail: 'Access skipped (no response)',
    });
    // The pausing owner holds the phase open; the skipping one does not hold the request up.
    request = await lethe.untilIntegration(created.id, 'quick-pause', 'access', {
      state: 'Processing',
      detail: 'Due 1 day ago',
    });
    assert.equal(request.paused, true);
    assert.match(request.paused_reason ?? '', /Quick owner \(pauses\)/);
    assert.equal(request.state, 'Accessing data');

    const skipped = await lethe.post(`/v1/requests/${created.id}/integrations/quick-pause/skip`, {
      actor: 'ops@example.com',
    });
    assert.equal(skipped.status, 200, JSON.stringify(skipped.body));

    request = await lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    assert.equal(request.paused, false);
    assert.deepEqual(phaseOf(request, 'quick-skip', 'access'), {
      state: 'Complete',
      detail: 'Access skipped (no response)',
    });
    assert.deepEqual(phaseOf(request, 'quick-pause', 'access'), {
      state: 'Complete',
      detail: 'Access skipped (no response)',
    });
  });

  it('pause: a late answer from the owner is still taken and un-pauses the request', async () => {
    const created = await lethe.create({
      type: 'access',
      subject: { email: 'late@example.com' },
      integrations: ['quick-pause'],
    });
    const request = await lethe.untilIntegration(created.id, 'quick-pause', 'access', {
      state: 'Processing',
      detail: 'Due 1 day ago',
    });
    assert.equal(request.paused, true);
    const skipTooEarly = await lethe.post(`/v1/requests/${created.id}/integrations/quick-pause/start`);
    assert.equal(skipTooEarly.status, 409, 'start is only for Pending integrations');

    const stopped = await lethe.post(`/v1/requests/${created.id}/integrations/quick-pause/stop`);
    assert.equal(stopped.status, 200);
    const done = await lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    assert.equal(done.paused, false);
    assert.deepEqual(phaseOf(done, 'quick-pause', 'access'), {
      state: 'Complete',
      detail: 'Stopped processing',
    });
  });
});
