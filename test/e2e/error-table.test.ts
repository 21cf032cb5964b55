import assert from 'node:assert/strict';
import { call } from '../support/http';
import { integration, useStack } from '../support/lethe';

/**
 * Contract section 3, row by row, end to end: the CRM fails as a third-party API would, and the
 * integration ends in Error with the contract's message, after retries only where the table says.
 * The test integrations try 4 times (initial 200 ms, doubling).
 */
describe('the integration error table, end to end', function () {
  this.timeout(60_000);
  const suite = useStack();

  const ATTEMPTS = 4;
  const statuses: [number, string, boolean][] = [
    [400, 'Request error', false],
    [401, 'Authorization error', false],
    [402, 'Payment required', false],
    [403, 'Insufficient permissions', false],
    [404, 'Unprocessable request', false],
    [408, 'Request timeout', true],
    [409, 'Lethe error', false],
    [418, 'Lethe error', false],
    [422, 'Request error', false],
    [429, 'Rate limit error', true],
    [500, 'Internal Server Error', false],
    [501, 'Internal Server Error', false],
    [502, 'Internal Server Error', true],
    [503, 'Internal Server Error', true],
    [504, 'Internal Server Error', true],
    [505, 'Internal Server Error', false],
    [599, 'Internal Server Error', false],
  ];

  async function expectError(integrationId: string, message: string, calls: number) {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: `errors-${Date.now()}@example.com` },
      integrations: [integrationId],
    });
    const request = await suite.lethe.untilIntegration(created.id, integrationId, 'access', {
      state: 'Error',
      detail: message,
    });
    assert.equal(integration(request, integrationId).error?.message, message);
    const log = await call(
      suite.stack.apiUrl,
      'GET',
      `/v1/requests/${created.id}/integrations/${integrationId}/error-log`,
    );
    assert.equal(log.body.entries.length, calls, `${calls} call(s) in the error log`);
    return log.body.entries as { status: number | null; error: string | null }[];
  }

  for (const [status, message, retried] of statuses) {
    it(`HTTP ${status}: Error / ${message}${retried ? `, after ${ATTEMPTS} attempts` : ', not retried'}`, async () => {
      await call(suite.stack.crmUrl, 'POST', '/_sandbox/faults', {
        key: null,
        body: { status, times: retried ? ATTEMPTS : 1, method: 'GET', path: '/contacts', retry_after: '0' },
      });
      const entries = await expectError('crm', message, retried ? ATTEMPTS : 1);
      assert.ok(entries.every((e) => e.status === status));
    });
  }

  it(`connection refused: Error / Internal Server Error, after ${ATTEMPTS} attempts`, async () => {
    const entries = await expectError('crm-closed', 'Internal Server Error', ATTEMPTS);
    assert.ok(entries.every((e) => e.status === null && e.error === 'ECONNREFUSED'));
  });

  it(`connection reset: Error / Internal Server Error, after ${ATTEMPTS} attempts`, async () => {
    await call(suite.stack.crmUrl, 'POST', '/_sandbox/faults', {
      key: null,
      body: { reset: true, times: ATTEMPTS, method: 'GET', path: '/contacts' },
    });
    const entries = await expectError('crm', 'Internal Server Error', ATTEMPTS);
    assert.ok(
      entries.every((e) => e.status === null && e.error === 'ECONNRESET'),
      JSON.stringify(entries),
    );
  });

  it(`client-side timeout: Error / Request timeout, after ${ATTEMPTS} attempts`, async () => {
    await call(suite.stack.crmUrl, 'POST', '/_sandbox/faults', {
      key: null,
      body: { delay_ms: 1500, times: ATTEMPTS, method: 'GET', path: '/contacts' },
    });
    const entries = await expectError('crm-impatient', 'Request timeout', ATTEMPTS);
    assert.ok(
      entries.every((e) => e.status === null && e.error === 'ECONNABORTED'),
      JSON.stringify(entries),
    );
  });
});
