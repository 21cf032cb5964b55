import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { call, eventually } from '../support/http';
import { LetheApi } from '../support/lethe';
import { getStack, type Stack } from '../support/stack';

describe('retention: a request’s data is deleted when its retention period ends (time-skipping server)', function () {
  this.timeout(60_000);
  let stack: Stack;
  let lethe: LetheApi;
  before(async function () {
    this.timeout(120_000);
    stack = await getStack('time-skipping');
    lethe = new LetheApi(stack);
  });

  it('30 days after closing: records, uploads and export are gone, and the request answers 404', async () => {
    const created = await lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm'],
    });
    const request = await lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    const folder = path.join(stack.dataDir, 'blobs', created.id);
    assert.ok(existsSync(folder), 'the request’s data is kept while it is retained');
    assert.equal((await fetch(request.data_url!)).status, 200);

    await stack.temporal.sleep('29 days');
    assert.equal(
      (await call(stack.apiUrl, 'GET', `/v1/requests/${created.id}`)).status,
      200,
      'day 29: still there',
    );

    await stack.temporal.sleep('2 days');
    const res = await eventually(
      () => call(stack.apiUrl, 'GET', `/v1/requests/${created.id}`),
      (r) => r.status === 404,
      { what: 'the request to be gone' },
    );
    assert.equal(res.body.error.name, 'REQUEST_NOT_FOUND');
    assert.ok(!existsSync(folder), 'records, uploads, call log and export deleted');
    const link = await fetch(request.data_url!);
    assert.equal(link.status, 404, 'the export link leads nowhere');
  });
});
