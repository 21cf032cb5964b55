import assert from 'node:assert/strict';
import JSZip from 'jszip';
import { batchDate, recordsInZip } from '../../src/activities/connectors/batch';
import { call, eventually } from '../support/http';
import { phaseOf, useStack } from '../support/lethe';
import { BATCH_API_KEY, BATCH_REST_KEY } from '../support/stack';

describe('the Batch GDPR connector against the sandbox Batch service', function () {
  this.timeout(60_000);
  const suite = useStack();

  const batchCalls = (since: number, method: string, pathEnd = '') =>
    suite.stack.batch.controls.calls.filter(
      (c) => c.method === method && Date.parse(c.at) >= since && c.path.endsWith(pathEnd),
    );
  const addUser = (value: string, events: number) =>
    call(suite.stack.batchUrl, 'POST', '/_sandbox/users', {
      key: null,
      body: {
        type: 'custom_id',
        value,
        files: {
          'profile.json': { custom_id: value },
          'events.json': Array.from({ length: events }, (_, i) => ({ name: 'app_open', n: i })),
        },
      },
    });

  it('review then remove, end to end, polling while Batch works; the request is created once per phase', async () => {
    const since = Date.now();
    const customId = `batch-user-${since}`;
    await addUser(customId, 3);
    const created = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { custom_id: customId },
      integrations: ['batch'],
    });
    await suite.lethe.untilIntegration(created.id, 'batch', 'access', {
      state: 'Processing',
      detail: 'Request submitted',
    });
    let request = await suite.lethe.untilIntegration(created.id, 'batch', 'access', {
      state: 'Complete',
      detail: '4 records found',
    });
    request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'batch', 'deletion'), {
      state: 'Complete',
      detail: '4 records deleted',
    });
    assert.equal(batchCalls(since, 'POST', '/gdpr/request').length, 2, 'one review, one remove');
    assert.ok(batchCalls(since, 'GET').filter((c) => !c.path.endsWith('.zip')).length >= 4, 'several polls');
    assert.equal(batchCalls(since, 'GET', '.zip').length, 1, 'the review zip downloaded once');
    assert.ok(!suite.stack.batch.users.some((u) => u.value === customId), 'Batch no longer holds the user');
  });

  it('"user not found" is No records found, and nothing to delete', async () => {
    const created = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { custom_id: 'nobody-at-batch' },
      integrations: ['batch'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'batch', 'access'), { state: 'Complete', detail: 'No records found' });
    assert.deepEqual(phaseOf(request, 'batch', 'deletion'), {
      state: 'Complete',
      detail: 'No records deleted',
    });
    assert.equal(request.error, 'user not found');
  });

  it('a wrong REST key is AUTHENTICATION_INVALID (401/10): Error / Authorization error, without the key in the log', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { custom_id: 'john.doe' },
      integrations: ['batch-wrong-key'],
    });
    await suite.lethe.untilIntegration(created.id, 'batch-wrong-key', 'access', {
      state: 'Error',
      detail: 'Authorization error',
    });
    const log = await call(
      suite.stack.apiUrl,
      'GET',
      `/v1/requests/${created.id}/integrations/batch-wrong-key/error-log`,
    );
    const text = JSON.stringify(log.body);
    assert.match(text, /AUTHENTICATION_INVALID/);
    assert.ok(!text.includes(BATCH_API_KEY) && !text.includes('not-the-rest-key'), 'no key in the log');
    assert.ok(!text.includes('john.doe'), 'no subject identifier in the log');
  });

  /**
   * An access request for a new Batch user (one record), once Lethe has polled its Batch request:
   * the job is known to Lethe, not just to Batch.
   */
  async function accessRequestPolledOnce(label: string) {
    const since = Date.now();
    const customId = `${label}-${since}`;
    await addUser(customId, 1);
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { custom_id: customId },
      integrations: ['batch'],
    });
    await suite.lethe.until(created.id, () => batchCalls(since, 'GET').length >= 1, 'a first poll');
    return { since, created };
  }

  it('a worker killed while Batch works resumes polling, without creating the Batch request again', async () => {
    const { since, created } = await accessRequestPolledOnce('batch-durable');
    await suite.stack.stopWorker();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await suite.stack.startWorker();
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'batch', 'access'), { state: 'Complete', detail: '2 records found' });
    assert.equal(batchCalls(since, 'POST', '/gdpr/request').length, 1, 'the review was created once');
  });

  /** The Batch request the sandbox holds for this user, once created. */
  const batchRequestOf = (customId: string) =>
    eventually(
      async () => [...suite.stack.batch.requests.values()].find((r) => r.subject.value === customId),
      (found) => found !== undefined,
      { what: `a Batch request for ${customId}` },
    );

  it('a Batch request that expired before it was done is submitted again', async () => {
    const since = Date.now();
    const customId = `batch-expired-${since}`;
    await addUser(customId, 2);
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { custom_id: customId },
      integrations: ['batch'],
    });
    const first = await batchRequestOf(customId);
    // "Expired requests are not returned by this API": Batch forgets it.
    first!.createdAt -= 60 * 86_400_000;
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'batch', 'access'), { state: 'Complete', detail: '3 records found' });
    assert.equal(batchCalls(since, 'POST', '/gdpr/request').length, 2, 'created again once');
    assert.ok(
      batchCalls(since, 'GET').some((c) => c.status === 404),
      'the expired request was not found',
    );
  });

  it('an integration workflow terminated while Batch works polls the same Batch request when retried', async () => {
    const { since, created } = await accessRequestPolledOnce('batch-terminated');
    await suite.stack.temporal.client.workflow
      .getHandle(`${created.id}/batch/access`)
      .terminate('test: an operator killed it');
    await suite.lethe.untilIntegration(created.id, 'batch', 'access', {
      state: 'Error',
      detail: 'Lethe error',
    });
    const retried = await suite.lethe.post(`/v1/requests/${created.id}/integrations/batch/retry`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'batch', 'access'), { state: 'Complete', detail: '2 records found' });
    assert.equal(batchCalls(since, 'POST', '/gdpr/request').length, 1, 'the review was created once');
  });

  it('a deletion-only Batch integration removes the user without a review first', async () => {
    const since = Date.now();
    const customId = `batch-remove-only-${since}`;
    await addUser(customId, 1);
    const created = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { custom_id: customId },
      integrations: ['batch-no-access'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'batch-no-access', 'access'), {
      state: 'Complete',
      detail: 'Access skipped',
    });
    assert.deepEqual(phaseOf(request, 'batch-no-access', 'deletion'), {
      state: 'Complete',
      detail: 'Deletion done',
    });
    const batchRequests = [...suite.stack.batch.requests.values()].filter(
      (r) => r.subject.value === customId,
    );
    assert.deepEqual(
      batchRequests.map((r) => r.requestType),
      ['remove'],
      'one remove, no review',
    );
    assert.ok(!suite.stack.batch.users.some((u) => u.value === customId), 'Batch no longer holds the user');
  });

  it('the sandbox answers bad calls with Batch’s documented errors', async () => {
    const path = `/1.0/${BATCH_API_KEY}/gdpr/request`;
    const headers = { 'X-Authorization': BATCH_REST_KEY };
    const missing = await call(suite.stack.batchUrl, 'POST', path, {
      key: null,
      headers,
      body: { id: { type: 'custom_id', value: 'x' } },
    });
    assert.deepEqual(
      [missing.status, missing.body.error.code, missing.body.error.name],
      [400, 30, 'MISSING_PARAMETER'],
    );
    const malformed = await call(suite.stack.batchUrl, 'POST', path, {
      key: null,
      headers,
      body: { request_type: 'erase', id: { type: 'custom_id', value: 'x' } },
    });
    assert.deepEqual([malformed.status, malformed.body.error.code], [400, 31]);
    const wrongKey = await call(suite.stack.batchUrl, 'GET', `/1.0/wrong/gdpr/request/x`, {
      key: null,
      headers,
    });
    assert.deepEqual([wrongKey.status, wrongKey.body.error.code], [401, 10]);
    const unknown = await call(suite.stack.batchUrl, 'GET', `${path}/no-such-request`, {
      key: null,
      headers,
    });
    assert.deepEqual([unknown.status, unknown.body.error.code], [404, 20]);
  });

  it('reads Batch dates as UTC and counts a zip’s records', async () => {
    assert.equal(batchDate('2021-01-03T16:52:16.051').toISOString(), '2021-01-03T16:52:16.051Z');
    assert.equal(batchDate('2021-01-03T16:52:16.051Z').toISOString(), '2021-01-03T16:52:16.051Z');
    const zip = new JSZip();
    zip.file('a.json', JSON.stringify([{ x: 1 }, { x: 2 }]));
    zip.file('b.json', JSON.stringify({ y: 1 }));
    zip.file('notes.txt', 'free text');
    const pages = [];
    for await (const page of recordsInZip(await zip.generateAsync({ type: 'nodebuffer' }))) pages.push(page);
    assert.deepEqual(
      pages.map((page) => page.length),
      [2, 1, 1],
      'one page per file',
    );
  });
});
