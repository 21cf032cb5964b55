import assert from 'node:assert/strict';
import { call } from '../support/http';
import { integration, useStack } from '../support/lethe';

/**
 * Contract section 3 end to end, a few rows: the CRM fails as a third-party API would, and the
 * integration ends in Error with the contract's message, after retries only where the table says.
 * Every row of the table is asserted by test/unit/errors.test.ts (the classification) and
 * test/activities/connector-failures.test.ts (a real call's failure and its log line); whether and
 * when the integration tries again, by test/workflows. The test integrations try 4 times (initial
 * 200 ms, doubling).
 */
describe('the integration error table, end to end', function () {
  this.timeout(60_000);
  const suite = useStack();

  const ATTEMPTS = 4;

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
    return log.body.entries as { status: number | null; time: string }[];
  }

  const fault = (body: Record<string, unknown>) =>
    call(suite.stack.crmUrl, 'POST', '/_sandbox/faults', {
      key: null,
      body: { method: 'GET', path: '/contacts', ...body },
    });

  it(`HTTP 503, transient: Error / Internal Server Error after ${ATTEMPTS} attempts`, async () => {
    await fault({ status: 503, times: ATTEMPTS });
    const entries = await expectError('crm', 'Internal Server Error', ATTEMPTS);
    assert.ok(entries.every((e) => e.status === 503));
  });

  it('HTTP 401, final: Error / Authorization error, not retried', async () => {
    await fault({ status: 401, times: 1 });
    const entries = await expectError('crm', 'Authorization error', 1);
    assert.equal(entries[0]?.status, 401);
  });

  it(`HTTP 429 with Retry-After: 1: Error / Rate limit error after ${ATTEMPTS} attempts, each a second or more after the last`, async () => {
    await fault({ status: 429, times: ATTEMPTS, retry_after: '1' });
    const entries = await expectError('crm', 'Rate limit error', ATTEMPTS);
    assert.ok(entries.every((e) => e.status === 429));
    const gaps = entries.slice(1).map((e, n) => Date.parse(e.time) - Date.parse(entries[n]!.time));
    // The integration's own backoff would wait 200, 400, 800 ms.
    assert.ok(
      gaps.every((gap) => gap >= 1000),
      `gaps ${gaps.join(', ')} ms`,
    );
  });
});
