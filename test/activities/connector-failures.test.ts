import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { INTEGRATION_FAILURE_TYPE, type IntegrationFailureDetails } from '../../src/activities/contracts';
import { validateLetheConfig } from '../../src/config/integrations-file';
import type { ApiIntegrationConfig } from '../../src/domain';
import { FileBlobStore } from '../../src/infra/blob-store';
import { CallLog } from '../../src/infra/call-log';
import { BlobJournal } from '../../src/infra/journal';
import { createLogger } from '../../src/infra/logger';
import { createMailer } from '../../src/infra/mailer';
import type { InjectedFault } from '../../src/sandbox/controls';
import { createSandboxCrm } from '../../src/sandbox/crm';
import { call } from '../support/http';
import { testIntegrations } from '../support/integrations';
import { closedPortUrl } from '../support/stack';

/**
 * Contract section 3, row by row, one connector call each: the sandbox CRM fails as a third-party
 * API would, and the call leaves as the taxonomy's failure (message, whether to try again), its
 * call logged. The classification alone: test/unit/errors.test.ts. What the integration then does
 * (try again up to its attempts, wait out a Retry-After, show the error): test/workflows, and end
 * to end a few rows: a 503 then a 200, a 429's Retry-After, a 401 not retried
 * (api-integrations.test.ts), a 502 until the attempts are spent (retries-and-error-log.test.ts).
 */
describe('a connector call that fails, row by row of the error table', function () {
  this.timeout(30_000);
  const TOKEN = 'activity-crm-token';
  const crm = createSandboxCrm({ token: TOKEN });
  const server = http.createServer(crm.app);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lethe-activities-'));
  const blobs = new FileBlobStore(path.join(dataDir, 'blobs'));
  const callLog = new CallLog(blobs);
  const log = createLogger('test', 'silent');
  const activities = createActivities({
    blobs,
    callLog,
    journal: new BlobJournal(blobs),
    // Never reached: these calls send no email.
    mailer: createMailer({ outboxDir: path.join(dataDir, 'outbox'), from: 'lethe@example.com', log }),
    secrets: (name) => (name === 'SANDBOX_CRM_TOKEN' ? TOKEN : undefined),
    ownerLink: () => 'http://127.0.0.1/owner/unused',
    log,
    takeOverIntegration: () => Promise.reject(new Error('not used by connector calls')),
    forgetLocally: () => Promise.reject(new Error('not used by connector calls')),
  });
  let crmUrl: string;
  let integrations: Map<string, ApiIntegrationConfig>;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    crmUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const unused = await closedPortUrl();
    const config = validateLetheConfig(testIntegrations(crmUrl, unused, await closedPortUrl(), unused));
    integrations = new Map(
      config.integrations.flatMap((i) => (i.type === 'api' ? [[i.id, i] as const] : [])),
    );
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  let requestNumber = 0;
  /** One access call to `integrationId`, which must fail: the failure, and the call log's entries. */
  async function failedCall(integrationId: string, fault?: Omit<InjectedFault, 'times'>) {
    if (fault) {
      const injected = await call(crmUrl, 'POST', '/_sandbox/faults', {
        key: null,
        body: { ...fault, times: 1, method: 'GET', path: '/contacts' },
      });
      assert.equal(injected.status, 201);
    }
    const requestId = `req_errortable${(requestNumber += 1)}`;
    const error: unknown = await new MockActivityEnvironment()
      .run(activities.callConnector, {
        requestId,
        phase: 'access' as const,
        integration: integrations.get(integrationId)!,
        subject: { email: 'jane.doe@example.com' },
        attempt: 1,
      })
      .then(
        () => assert.fail('the call succeeded'),
        (thrown: unknown) => thrown,
      );
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, INTEGRATION_FAILURE_TYPE);
    assert.equal(error.nonRetryable, true, 'the workflow, not Temporal, decides to try again');
    let document = '';
    for await (const piece of callLog.document(requestId, integrationId, { integrationId }))
      document += piece;
    const { entries } = JSON.parse(document) as {
      entries: { status: number | null; error: string | null }[];
    };
    return {
      message: error.message,
      retryable: (error.details?.[0] as IntegrationFailureDetails).retryable,
      entries,
    };
  }

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
  for (const [status, message, retryable] of statuses) {
    it(`HTTP ${status}: ${message}, ${retryable ? 'tried again' : 'final'}; the call logged with its status`, async () => {
      const failure = await failedCall('crm', { status });
      assert.deepEqual([failure.message, failure.retryable], [message, retryable]);
      assert.deepEqual(
        failure.entries.map((e) => e.status),
        [status],
      );
    });
  }

  const connections: [string, string, Omit<InjectedFault, 'times'> | undefined, string, string][] = [
    ['connection refused', 'crm-closed', undefined, 'Internal Server Error', 'ECONNREFUSED'],
    ['connection reset', 'crm', { reset: true }, 'Internal Server Error', 'ECONNRESET'],
    // The integration waits 1 s; the CRM answers after 1.5 s.
    ['client-side timeout', 'crm-impatient', { delay_ms: 1500 }, 'Request timeout', 'ECONNABORTED'],
  ];
  for (const [name, integrationId, fault, message, code] of connections) {
    it(`${name}: ${message}, tried again; the call logged with ${code}`, async () => {
      const failure = await failedCall(integrationId, fault);
      assert.deepEqual([failure.message, failure.retryable], [message, true]);
      assert.deepEqual(
        failure.entries.map((e) => [e.status, e.error]),
        [[null, code]],
      );
    });
  }
});
