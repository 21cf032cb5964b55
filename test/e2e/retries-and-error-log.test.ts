import assert from 'node:assert/strict';
import { call, eventually } from '../support/http';
import { integration, phaseOf, useStack } from '../support/lethe';
import { CRM_TOKEN } from '../support/stack';

describe('retries, the error log and disconnected integrations', function () {
  this.timeout(60_000);
  const suite = useStack();

  const fault = (body: Record<string, unknown>) =>
    call(suite.stack.crmUrl, 'POST', '/_sandbox/faults', { body, key: null });
  const errorLog = (id: string, iid: string) =>
    call(suite.stack.apiUrl, 'GET', `/v1/requests/${id}/integrations/${iid}/error-log`);

  it('503 three times then 200: Processing with the attempt and last error meanwhile, every attempt in the log', async () => {
    const email = `retry-${Date.now()}@example.com`;
    await call(suite.stack.crmUrl, 'POST', '/_sandbox/contacts', {
      body: { email, kind: 'note' },
      key: null,
    });
    await fault({ status: 503, times: 3, method: 'GET', path: '/contacts' });
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email },
      integrations: ['crm-patient'],
    });

    const retrying = await suite.lethe.until(
      created.id,
      (r) => (integration(r, 'crm-patient').access.attempt ?? 0) >= 2,
      'a second attempt to show',
    );
    const view = integration(retrying, 'crm-patient').access;
    assert.equal(view.state, 'Processing');
    assert.equal(view.detail, 'Request submitted');
    assert.equal(view.last_error, 'Internal Server Error');

    await suite.lethe.untilIntegration(created.id, 'crm-patient', 'access', {
      state: 'Complete',
      detail: '1 record found',
    });
    const log = await errorLog(created.id, 'crm-patient');
    assert.equal(log.status, 200);
    assert.match(log.headers.get('content-disposition') ?? '', /attachment/);
    const entries = log.body.entries as {
      attempt: number;
      status: number;
      method: string;
      url: string;
      excerpt: string;
    }[];
    assert.deepEqual(
      entries.map((e) => [e.attempt, e.method, e.status]),
      [
        [1, 'GET', 503],
        [2, 'GET', 503],
        [3, 'GET', 503],
        [4, 'GET', 200],
      ],
    );
    const text = JSON.stringify(log.body);
    assert.ok(
      !text.includes(email) && !text.includes(encodeURIComponent(email)),
      'no subject identifier in the log',
    );
    assert.ok(!text.includes(CRM_TOKEN), 'no secret in the log');
    assert.match(entries[0]!.url, /\/contacts\?email=%5Bredacted%5D|\/contacts\?email=\[redacted\]/);
    assert.match(entries[0]!.excerpt, /injected fault 503/);
  });

  it('a transient error that does not pass ends in Error once the attempts are spent', async () => {
    await fault({ status: 502, times: 4, method: 'GET', path: '/contacts' });
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'always-down@example.com' },
      integrations: ['crm'],
    });
    const request = await suite.lethe.untilIntegration(created.id, 'crm', 'access', {
      state: 'Error',
      detail: 'Internal Server Error',
    });
    assert.equal(integration(request, 'crm').error?.message, 'Internal Server Error');
    const log = await errorLog(created.id, 'crm');
    assert.deepEqual(
      log.body.entries.map((e: { status: number }) => e.status),
      [502, 502, 502, 502],
      'max_attempts: 4',
    );
    assert.equal((await errorLog(created.id, 'nope')).status, 404);
    assert.equal(
      (
        await call(suite.stack.apiUrl, 'GET', `/v1/requests/${created.id}/integrations/crm/error-log`, {
          key: 'x',
        })
      ).status,
      401,
    );
  });

  it('a missing credential or a disconnected flag: Error / Disconnected integration, no call, operators told once', async () => {
    const callsBefore = suite.stack.crm.calls.length;
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'disconnected@example.com' },
      integrations: ['crm-no-credential', 'dc-disconnected'],
    });
    await suite.lethe.untilIntegration(created.id, 'crm-no-credential', 'access', {
      state: 'Error',
      detail: 'Disconnected integration',
    });
    await suite.lethe.untilIntegration(created.id, 'dc-disconnected', 'access', {
      state: 'Error',
      detail: 'Disconnected integration',
    });
    assert.equal(suite.stack.crm.calls.length, callsBefore, 'the service was not called');
    const notices = () =>
      suite.stack.smtp.inbox.filter(
        (m) => m.to.includes('privacy-ops@example.com') && m.text.includes(created.id),
      );
    await eventually(
      async () => notices(),
      (found) => found.length === 2,
      { what: 'one notice per integration' },
    );
    assert.ok(notices().some((m) => m.subject.includes('crm-no-credential')));
    assert.ok(notices().some((m) => m.subject.includes('dc-disconnected')));

    const retried = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm-no-credential/retry`);
    assert.equal(retried.status, 200);
    await suite.lethe.untilIntegration(created.id, 'crm-no-credential', 'access', {
      state: 'Error',
      detail: 'Disconnected integration',
    });
    const log = await errorLog(created.id, 'crm-no-credential');
    assert.deepEqual(
      log.body.entries.map((e: { attempt: number; error: string }) => [e.attempt, e.error]),
      [
        [1, 'Disconnected integration: credential LETHE_TEST_UNSET_TOKEN is not set'],
        [2, 'Disconnected integration: credential LETHE_TEST_UNSET_TOKEN is not set'],
      ],
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(notices().length, 2, 'operators are told once per integration');
    for (const id of ['crm-no-credential', 'dc-disconnected']) {
      assert.equal(
        (await suite.lethe.post(`/v1/requests/${created.id}/integrations/${id}/stop`)).status,
        200,
      );
    }
    const done = await suite.lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    assert.deepEqual(phaseOf(done, 'dc-disconnected', 'access'), {
      state: 'Complete',
      detail: 'Stopped processing',
    });
  });
});
