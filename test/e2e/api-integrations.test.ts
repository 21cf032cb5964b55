import assert from 'node:assert/strict';
import { call } from '../support/http';
import { integration, phaseOf, useStack } from '../support/lethe';

describe('API integrations against the sandbox CRM', function () {
  this.timeout(60_000);
  const suite = useStack();

  const injectFault = (fault: {
    status: number;
    times: number;
    method?: string;
    path?: string;
    retry_after?: string;
  }) => call(suite.stack.crmUrl, 'POST', '/_sandbox/faults', { body: fault, key: null });

  const callsFor = (since: number, method: string) =>
    suite.stack.crm.calls.filter(
      (c) => c.method === method && c.path === '/contacts' && Date.parse(c.at) >= since,
    );

  it('a 503 then a 200 recovers: the transient error is retried, the records are found', async () => {
    const since = Date.now();
    await injectFault({ status: 503, times: 1, method: 'GET', path: '/contacts' });
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Complete', detail: '3 records found' });
    assert.equal(integration(request, 'crm').error, null);
    assert.deepEqual(
      callsFor(since, 'GET').map((c) => c.status),
      [503, 200],
      'one failed call, one retry',
    );
  });

  it('a 429 is retried no sooner than its Retry-After says', async () => {
    const since = Date.now();
    await injectFault({ status: 429, times: 1, method: 'GET', path: '/contacts', retry_after: '2' });
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Complete', detail: '3 records found' });
    const [limited, retried] = callsFor(since, 'GET');
    assert.equal(limited?.status, 429);
    assert.equal(retried?.status, 200);
    const waitedMs = Date.parse(retried!.at) - Date.parse(limited!.at);
    assert.ok(waitedMs >= 2000, `retried after ${waitedMs} ms`);
  });

  it('a 401 is not retried and shows Error / Authorization error; stop completes it and the request goes on', async () => {
    const since = Date.now();
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm-wrong-key', 'crm'],
    });
    let request = await suite.lethe.untilIntegration(created.id, 'crm-wrong-key', 'access', {
      state: 'Error',
      detail: 'Authorization error',
    });
    assert.equal(integration(request, 'crm-wrong-key').error?.message, 'Authorization error');
    assert.equal(integration(request, 'crm-wrong-key').error?.phase, 'access');
    assert.equal(request.state, 'Accessing data', 'an error holds the request: nothing is lost');
    assert.deepEqual(
      callsFor(since, 'GET')
        .filter((c) => c.status === 401)
        .map((c) => c.status),
      [401],
      'called once, never retried',
    );

    // Retrying runs the integration again: the key is still wrong, so it errs again.
    const retried = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm-wrong-key/retry`, {
      actor: 'ops@example.com',
    });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    await suite.lethe.until(
      created.id,
      () => callsFor(since, 'GET').filter((c) => c.status === 401).length === 2,
      'the retry to call the CRM again',
    );
    request = await suite.lethe.untilIntegration(created.id, 'crm-wrong-key', 'access', {
      state: 'Error',
      detail: 'Authorization error',
    });

    const stopped = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm-wrong-key/stop`, {
      actor: 'ops@example.com',
    });
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'crm-wrong-key', 'access'), {
      state: 'Complete',
      detail: 'Stopped processing',
    });
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Complete', detail: '3 records found' });
    const history = integration(request, 'crm-wrong-key').history;
    assert.deepEqual(
      history.map((h) => [h.action, h.by, h.phase]),
      [
        ['retry', 'ops@example.com', 'access'],
        ['stop', 'ops@example.com', 'access'],
      ],
    );
    assert.ok(
      history.every((h) => /^key:[0-9a-f]{8}$/.test(h.actor) && !Number.isNaN(Date.parse(h.at))),
      'who acted is the API key, whatever the body says',
    );
  });

  it('refuses actions that do not fit the integration’s state with 409 INVALID_STATE', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'nobody@example.com' },
      integrations: ['crm'],
    });
    await suite.lethe.until(created.id, (r) => r.state === 'Data accessed', 'Data accessed');
    const retry = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm/retry`);
    assert.equal(retry.status, 409);
    assert.equal(retry.body.error.name, 'INVALID_STATE');
    const unknown = await suite.lethe.post(`/v1/requests/${created.id}/selection`, {
      integrations: ['crm', 'nope'],
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.name, 'MALFORMED_PARAMETER');
    const request = await suite.lethe.get(created.id);
    assert.equal(request.state, 'Data accessed');
    assert.equal(request.selection, null, 'a refused selection changes nothing');

    const none = await suite.lethe.post(`/v1/requests/${created.id}/selection`, { integrations: [] });
    assert.equal(none.status, 200);
    const closed = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.equal(closed.error, 'user not found');
    const late = await suite.lethe.post(`/v1/requests/${created.id}/selection`, { integrations: [] });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.name, 'INVALID_STATE');
  });
});

describe('the generic HTTP connector reads every page', function () {
  this.timeout(60_000);
  const suite = useStack();

  for (const [integrationId, calls] of [
    ['crm-paged', 3],
    ['crm-cursor', 4],
  ] as const) {
    it(`${integrationId}: 25 records over ${calls} calls, each record deleted once`, async () => {
      const since = Date.now();
      const email = `paged-${integrationId}-${since}@example.com`;
      for (let i = 0; i < 25; i++) {
        await call(suite.stack.crmUrl, 'POST', '/_sandbox/contacts', { body: { email, n: i }, key: null });
      }
      const created = await suite.lethe.create({
        type: 'deletion',
        auto_process: true,
        subject: { email },
        integrations: [integrationId],
      });
      const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
      assert.deepEqual(phaseOf(request, integrationId, 'access'), {
        state: 'Complete',
        detail: '25 records found',
      });
      assert.deepEqual(phaseOf(request, integrationId, 'deletion'), {
        state: 'Complete',
        detail: '25 records deleted',
      });
      const gets = suite.stack.crm.calls.filter(
        (c) => c.method === 'GET' && c.path === '/contacts' && Date.parse(c.at) >= since,
      );
      assert.equal(gets.length, calls);
      const deletes = suite.stack.crm.calls.filter((c) => c.method === 'DELETE' && Date.parse(c.at) >= since);
      assert.equal(new Set(deletes.map((c) => c.path)).size, 25);
      assert.equal(deletes.length, 25, 'no record deleted twice');
    });
  }
});

describe('the generic HTTP connector authenticates as configured', function () {
  this.timeout(60_000);
  const suite = useStack();

  for (const [integrationId, header] of [
    ['crm-basic', 'authorization'],
    ['crm-api-key', 'x-api-key'],
  ] as const) {
    it(`${integrationId}: finds the records with its credentials (${header})`, async () => {
      const created = await suite.lethe.create({
        type: 'access',
        auto_process: true,
        subject: { email: 'jane.doe@example.com' },
        integrations: [integrationId],
      });
      const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
      assert.deepEqual(phaseOf(request, integrationId, 'access'), {
        state: 'Complete',
        detail: '3 records found',
      });
    });
  }

  it('a wrong basic password is Error / Authorization error; neither user nor password reaches the error log', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm-basic-wrong'],
    });
    await suite.lethe.untilIntegration(created.id, 'crm-basic-wrong', 'access', {
      state: 'Error',
      detail: 'Authorization error',
    });
    const log = await call(
      suite.stack.apiUrl,
      'GET',
      `/v1/requests/${created.id}/integrations/crm-basic-wrong/error-log`,
    );
    assert.equal(log.status, 200);
    const text = JSON.stringify(log.body);
    assert.match(text, /401/);
    assert.ok(!text.includes('not-the-token'), 'the password is not in the log');
    assert.ok(!text.includes(Buffer.from('lethe:not-the-token').toString('base64')), 'nor its encoding');
    assert.ok(!text.includes('jane.doe@example.com'), 'nor the subject');
  });
});
