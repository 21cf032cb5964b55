import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { call } from '../support/http';
import { ownerLinkIn, useStack } from '../support/lethe';
import { closedPortUrl } from '../support/stack';

describe('operations: metrics and readiness', function () {
  this.timeout(30_000);
  const suite = useStack();

  it('GET /metrics: requests by state, API latencies and process metrics, without an API key and without identifiers', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'metrics.person@example.com' },
      integrations: ['crm-wrong-key'],
    });
    await suite.lethe.untilIntegration(created.id, 'crm-wrong-key', 'access', {
      state: 'Error',
      detail: 'Authorization error',
    });
    const res = await fetch(`${suite.stack.apiUrl}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const accessing = /lethe_requests\{state="Accessing data"\} (\d+)/.exec(text);
    assert.ok(accessing && Number(accessing[1]) >= 1, 'open requests counted by state');
    assert.match(text, /lethe_api_http_request_duration_seconds_bucket\{.*route="\/v1\/requests\/:id".*\}/);
    assert.match(text, /lethe_api_process_resident_memory_bytes/);
    assert.ok(!text.includes('metrics.person'), 'no identifier');
  });

  it('GET /readyz is 200 while Temporal answers; /healthz always', async () => {
    assert.equal((await call(suite.stack.apiUrl, 'GET', '/readyz', { key: null })).status, 200);
    assert.equal((await call(suite.stack.apiUrl, 'GET', '/healthz', { key: null })).status, 200);
  });

  it('GET /readyz is 503 while Temporal cannot be reached, and so are reads (MAINTENANCE_ERROR); /healthz is 200', async () => {
    // The product's API, its Temporal address a closed port: as when Temporal is down. Without the
    // client's retries of an unavailable server, which hold each read about 17 s before it fails.
    const connection = Connection.lazy({ address: new URL(await closedPortUrl()).host, interceptors: [] });
    const server = http.createServer(
      createApp({ ...suite.stack.apiDependencies, client: new Client({ connection }) }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ready = await call(url, 'GET', '/readyz', { key: null });
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.body, { status: 'temporal unreachable' });
      const read = await call(url, 'GET', '/v1/requests/req_00000000000000000000000000');
      assert.equal(read.status, 503, JSON.stringify(read.body));
      assert.deepEqual([read.body.error.name, read.body.error.code], ['MAINTENANCE_ERROR', 2]);
      assert.equal((await call(url, 'GET', '/healthz', { key: null })).status, 200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
    }
  });

  it('every API call is logged as one JSON line: route pattern, status, duration and the request id, never a token', async () => {
    const since = suite.stack.logLines.length;
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'logged.person@example.com' },
      integrations: ['warehouse'],
    });
    await suite.lethe.get(created.id);
    const link = new URL(
      ownerLinkIn((await suite.lethe.ownerMail(created.id, 'dana.owner@example.com')).text),
    );
    assert.equal((await fetch(link)).status, 200);
    const calls = suite.stack.logLines
      .slice(since)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === 'api call');
    const read = calls.find((c) => c.requestId === created.id && c.method === 'GET');
    assert.equal(read?.route, '/v1/requests/:id');
    assert.equal(read?.status, 200);
    assert.equal(typeof read?.ms, 'number');
    const ownerPage = calls.find((c) => c.route === '/owner/:token');
    assert.equal(ownerPage?.status, 200);
    const token = link.pathname.split('/').at(-1)!;
    assert.ok(!suite.stack.logLines.some((line) => line.includes(token)), 'the owner token is not logged');
  });
});
