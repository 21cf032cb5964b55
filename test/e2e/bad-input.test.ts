import assert from 'node:assert/strict';
import { PrivacyRequestWorkflow } from '../../src/workflows';
import { call } from '../support/http';
import { getStack, type Stack } from '../support/stack';

/** Bad input gets the contract's error body, and never starts a workflow. */
describe('bad input to the HTTP API', function () {
  this.timeout(60_000);
  let stack: Stack;

  before(async function () {
    this.timeout(120_000);
    stack = await getStack();
  });

  /** Request workflows started since `since`; only this suite starts any while it runs. */
  async function startedSince(since: Date): Promise<number> {
    const { count } = await stack.temporal.client.workflow.count(
      `WorkflowType = '${PrivacyRequestWorkflow.name}' AND StartTime >= '${since.toISOString()}'`,
    );
    return count;
  }

  /** Visibility is eventually consistent: give a wrongly started workflow the time to show. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  const cases: {
    name: string;
    method: string;
    path: string;
    body?: unknown;
    rawBody?: string;
    key?: string | null;
    headers?: Record<string, string>;
    status: number;
    error: string;
    mentions?: string;
  }[] = [
    {
      name: 'no body',
      method: 'POST',
      path: '/v1/requests',
      status: 400,
      error: 'MISSING_PARAMETER',
      mentions: 'type',
    },
    {
      name: 'no type',
      method: 'POST',
      path: '/v1/requests',
      body: { subject: { email: 'a@example.com' } },
      status: 400,
      error: 'MISSING_PARAMETER',
      mentions: 'type',
    },
    {
      name: 'no subject',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access' },
      status: 400,
      error: 'MISSING_PARAMETER',
      mentions: 'subject',
    },
    {
      name: 'no identifier',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', subject: { name: 'Jo' } },
      status: 400,
      error: 'MISSING_PARAMETER',
      mentions: 'identifier',
    },
    {
      name: 'unknown type',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'erase', subject: { email: 'a@example.com' } },
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'type',
    },
    {
      name: 'bad email',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', subject: { email: 'not-an-email' } },
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'subject.email',
    },
    {
      name: 'unknown field',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', subject: { email: 'a@example.com' }, priority: 'high' },
      status: 400,
      error: 'MALFORMED_PARAMETER',
    },
    {
      name: 'bad regulation',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', regulation: 'lgpd', subject: { email: 'a@example.com' } },
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'regulation',
    },
    {
      name: 'unknown integration',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', subject: { email: 'a@example.com' }, integrations: ['nope'] },
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'nope',
    },
    {
      name: 'auto_process not a boolean',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', subject: { email: 'a@example.com' }, auto_process: 'yes' },
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'auto_process',
    },
    {
      name: 'invalid JSON',
      method: 'POST',
      path: '/v1/requests',
      rawBody: '{"type":',
      headers: { 'Content-Type': 'application/json' },
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'JSON',
    },
    {
      name: 'no key',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', subject: { email: 'a@example.com' } },
      key: null,
      status: 401,
      error: 'AUTHENTICATION_INVALID',
    },
    {
      name: 'wrong key',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', subject: { email: 'a@example.com' } },
      key: 'test-kez',
      status: 401,
      error: 'AUTHENTICATION_INVALID',
    },
    {
      name: 'wrong key on GET',
      method: 'GET',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa',
      key: 'nope',
      status: 401,
      error: 'AUTHENTICATION_INVALID',
    },
    {
      name: 'unknown id',
      method: 'GET',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa',
      status: 404,
      error: 'REQUEST_NOT_FOUND',
    },
    {
      name: 'malformed id',
      method: 'GET',
      path: '/v1/requests/..%2f..%2fetc',
      status: 404,
      error: 'REQUEST_NOT_FOUND',
    },
    {
      name: 'selection for an unknown id',
      method: 'POST',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/selection',
      body: { integrations: [] },
      status: 404,
      error: 'REQUEST_NOT_FOUND',
    },
    {
      name: 'action on an unknown id',
      method: 'POST',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/integrations/crm/stop',
      status: 404,
      error: 'REQUEST_NOT_FOUND',
    },
    {
      name: 'unknown action',
      method: 'POST',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/integrations/crm/explode',
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'action',
    },
    {
      name: 'selection without integrations',
      method: 'POST',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/selection',
      body: {},
      status: 400,
      error: 'MISSING_PARAMETER',
      mentions: 'integrations',
    },
    {
      name: 'bad list filter',
      method: 'GET',
      path: '/v1/requests?status=maybe',
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'status',
    },
    {
      name: 'bad list limit',
      method: 'GET',
      path: '/v1/requests?limit=100000',
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'limit',
    },
    {
      name: 'a page_token Lethe did not make',
      method: 'GET',
      path: '/v1/requests?page_token=constructor',
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'page_token',
    },
    {
      name: 'malformed integration id in an action',
      method: 'POST',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/integrations/CRM%20one/stop',
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'integration id',
    },
    {
      name: 'malformed integration id in an error log',
      method: 'GET',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/integrations/..%2fcrm/error-log',
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'integration id',
    },
    {
      name: 'malformed integration id in a selection',
      method: 'POST',
      path: '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/selection',
      body: { integrations: ['crm', 'Not An Id'] },
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'body.integrations.1',
    },
    { name: 'unknown route', method: 'GET', path: '/v1/nothing-here', status: 404, error: 'ROUTE_NOT_FOUND' },
    {
      name: 'unknown route without a key',
      method: 'GET',
      path: '/nothing-here',
      key: null,
      status: 404,
      error: 'ROUTE_NOT_FOUND',
    },
    {
      name: 'bad Idempotency-Key',
      method: 'POST',
      path: '/v1/requests',
      body: { type: 'access', subject: { email: 'a@example.com' } },
      headers: { 'Idempotency-Key': 'x'.repeat(300) },
      status: 400,
      error: 'MALFORMED_PARAMETER',
      mentions: 'Idempotency-Key',
    },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.error}`, async () => {
      const since = new Date();
      const res = await call(stack.apiUrl, c.method, c.path, {
        body: c.body,
        rawBody: c.rawBody,
        key: c.key,
        headers: c.headers,
      });
      assert.equal(res.status, c.status, JSON.stringify(res.body));
      assert.equal(res.body.error.name, c.error);
      assert.equal(typeof res.body.error.code, 'number');
      assert.equal(typeof res.body.error.message, 'string');
      if (c.mentions)
        assert.ok(
          res.body.error.message.includes(c.mentions),
          `"${res.body.error.message}" names ${c.mentions}`,
        );
      await settle();
      assert.equal(await startedSince(since), 0, 'no workflow was started');
    });
  }

  it('an Idempotency-Key makes a retried POST return the same request, and refuses a different body', async () => {
    const since = new Date();
    const key = `idem-${Date.now()}`;
    const body = { type: 'access', subject: { email: 'idem@example.com' }, integrations: ['crm'] };
    const first = await call(stack.apiUrl, 'POST', '/v1/requests', {
      body,
      headers: { 'Idempotency-Key': key },
    });
    assert.equal(first.status, 201);
    const second = await call(stack.apiUrl, 'POST', '/v1/requests', {
      body,
      headers: { 'Idempotency-Key': key },
    });
    assert.equal(second.status, 201);
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    const different = await call(stack.apiUrl, 'POST', '/v1/requests', {
      body: { ...body, type: 'deletion' },
      headers: { 'Idempotency-Key': key },
    });
    assert.equal(different.status, 409);
    assert.equal(different.body.error.name, 'INVALID_STATE');
    await settle();
    assert.equal(await startedSince(since), 1, 'one workflow for the three POSTs');
  });

  it('lists requests by status, type and state, a page at a time', async () => {
    const created = await call(stack.apiUrl, 'POST', '/v1/requests', {
      body: { type: 'portability', subject: { custom_id: `list-${Date.now()}` }, integrations: ['crm'] },
    });
    assert.equal(created.status, 201);
    // Visibility is eventually consistent: wait for the new request to be listed.
    let listed;
    for (let i = 0; i < 50; i++) {
      listed = await call(stack.apiUrl, 'GET', '/v1/requests?type=portability&status=pending&limit=1');
      if (listed.body.requests?.some((r: { id: string }) => r.id === created.body.id)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(listed!.status, 200);
    assert.deepEqual(
      listed!.body.requests.map((r: { id: string; type: string; status: string }) => [
        r.id,
        r.type,
        r.status,
      ]),
      [[created.body.id, 'portability', 'pending']],
    );
    // One request date, whichever way the request is read.
    const own = await call(stack.apiUrl, 'GET', `/v1/requests/${created.body.id}`);
    assert.equal(listed!.body.requests[0].request_date, created.body.request_date);
    assert.equal(own.body.request_date, created.body.request_date);
    const done = await call(stack.apiUrl, 'GET', '/v1/requests?type=portability&status=done');
    assert.ok(!done.body.requests.some((r: { id: string }) => r.id === created.body.id));
  });

  it('next_page_token pages on; one changed, or from another filter, is refused at once', async () => {
    for (let i = 0; i < 2; i++) {
      const created = await call(stack.apiUrl, 'POST', '/v1/requests', {
        body: { type: 'access', subject: { custom_id: `page-${Date.now()}-${i}` }, integrations: ['crm'] },
      });
      assert.equal(created.status, 201);
    }
    let first;
    for (let i = 0; i < 50; i++) {
      first = await call(stack.apiUrl, 'GET', '/v1/requests?type=access&limit=1');
      if (first.body.next_page_token) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const token = first!.body.next_page_token as string;
    assert.equal(typeof token, 'string');
    const second = await call(stack.apiUrl, 'GET', `/v1/requests?type=access&limit=1&page_token=${token}`);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.requests.length, 1);
    assert.notEqual(second.body.requests[0].id, first!.body.requests[0].id);

    const changed = `${token.slice(0, 5)}${token[5] === 'A' ? 'B' : 'A'}${token.slice(6)}`;
    for (const path of [
      `/v1/requests?type=access&limit=1&page_token=${changed}`,
      `/v1/requests?type=deletion&limit=1&page_token=${token}`,
      '/v1/requests?page_token=constructor',
      `/v1/requests?page_token=${'A'.repeat(64)}`,
    ]) {
      const started = performance.now();
      const refused = await call(stack.apiUrl, 'GET', path);
      const ms = performance.now() - started;
      assert.equal(refused.status, 400, `${path}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error.name, 'MALFORMED_PARAMETER');
      assert.match(refused.body.error.message, /page_token/);
      // Temporal takes some 19 s to refuse a token it did not make: Lethe must not have asked.
      assert.ok(ms < 1500, `${path} answered in ${Math.round(ms)} ms`);
    }
  });
});
