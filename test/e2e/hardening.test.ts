import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { call } from '../support/http';
import { useStack } from '../support/lethe';
import { API_KEY } from '../support/stack';

describe('an API that holds against abuse', function () {
  this.timeout(30_000);
  const suite = useStack();
  let limited: http.Server;
  let limitedUrl: string;

  before(async () => {
    // The product's API on the same Temporal, with small budgets: 5 calls a minute per key, 3 per address.
    const { stack } = suite;
    limited = http.createServer(
      createApp({
        ...stack.apiDependencies,
        apiKeys: [API_KEY, 'second-key'],
        codecOrigins: [],
        rateLimits: { perKey: 5, perAddress: 3, failedKeysPerAddress: 1000 },
      }),
    );
    await new Promise<void>((resolve) => limited.listen(0, '127.0.0.1', resolve));
    limitedUrl = `http://127.0.0.1:${(limited.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => limited.close(() => resolve())));

  it('rate limits per key: the sixth call in a minute is 429 RATE_LIMITED with Retry-After; another key is not held back', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(limitedUrl, 'GET', '/v1/requests?limit=1')).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    const refused = await call(limitedUrl, 'GET', '/v1/requests?limit=1');
    assert.equal(refused.status, 429);
    assert.deepEqual([refused.body.error.name, refused.body.error.code], ['RATE_LIMITED', 50]);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
    const other = await call(limitedUrl, 'GET', '/v1/requests?limit=1', { key: 'second-key' });
    assert.equal(other.status, 200);
  });

  it('rate limits owner and export links per address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await call(limitedUrl, 'GET', '/owner/x.y', { key: null })).status);
    assert.deepEqual(statuses, [403, 403, 403, 429]);
  });

  it('sends protective headers, no X-Powered-By, and no stack trace in an error', async () => {
    const res = await call(suite.stack.apiUrl, 'POST', '/v1/requests', {
      rawBody: '{"type": ',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-powered-by'), null);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.deepEqual(Object.keys(res.body), ['error']);
    assert.ok(!JSON.stringify(res.body).includes('    at '), 'no stack trace');
  });

  it('refuses bodies over the limit with a contract error', async () => {
    const res = await call(suite.stack.apiUrl, 'POST', '/v1/requests', {
      body: { type: 'access', subject: { email: 'a@example.com', name: 'x'.repeat(70 * 1024) } },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.name, 'MALFORMED_PARAMETER');
    assert.match(res.body.error.message, /too large/);
  });
});
