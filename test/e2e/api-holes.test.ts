import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import JSZip from 'jszip';
import { createApp, type ApiDependencies } from '../../src/api/app';
import { REQUEST_STATES } from '../../src/domain';
import { encryptedDataConverter } from '../../src/infra/payload-codec';
import { call } from '../support/http';
import { useStack } from '../support/lethe';
import { API_KEY } from '../support/stack';

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

describe('smaller holes in the API', function () {
  this.timeout(60_000);
  const suite = useStack();
  const servers: http.Server[] = [];

  /** The product's API on the suite's Temporal, with what the test changes. */
  async function apiWith(changes: Partial<ApiDependencies>): Promise<string> {
    const { stack } = suite;
    const server = http.createServer(
      createApp({
        ...stack.apiDependencies,
        apiKeys: [API_KEY],
        codecOrigins: [],
        rateLimits: { perKey: 1000, perAddress: 1000, failedKeysPerAddress: 1000 },
        clock: undefined,
        ...changes,
      }),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  after(async () => {
    for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('wrong API keys are rate limited per address: the sixth failure in a minute is 429 with Retry-After', async () => {
    const url = await apiWith({ rateLimits: { perKey: 1000, perAddress: 1000, failedKeysPerAddress: 5 } });
    // Calls with the right key do not use the budget.
    for (let i = 0; i < 8; i++) assert.equal((await call(url, 'GET', '/v1/requests?limit=1')).status, 200);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await call(url, 'GET', '/v1/requests', { key: `guess-${i}` })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const refused = await call(url, 'GET', '/v1/requests', { key: 'guess-6' });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.name, 'RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
  });

  it('behind a trusted proxy, each client address has its own budget; by default the proxy’s is shared', async () => {
    const limits = { perKey: 1000, perAddress: 2, failedKeysPerAddress: 1000 };
    const owner = (url: string, client: string) =>
      call(url, 'GET', '/owner/x.y', { key: null, headers: { 'X-Forwarded-For': client } }).then(
        (r) => r.status,
      );
    const proxied = await apiWith({ rateLimits: limits, trustProxy: ['127.0.0.1'] });
    assert.deepEqual(
      [
        await owner(proxied, '203.0.113.7'),
        await owner(proxied, '203.0.113.7'),
        await owner(proxied, '203.0.113.7'),
      ],
      [403, 403, 429],
    );
    assert.equal(await owner(proxied, '203.0.113.8'), 403, 'another client behind the proxy');
    const direct = await apiWith({ rateLimits: limits });
    assert.deepEqual(
      [
        await owner(direct, '203.0.113.7'),
        await owner(direct, '203.0.113.8'),
        await owner(direct, '203.0.113.9'),
      ],
      [403, 403, 429],
    );
  });

  it('/metrics does not count requests in Temporal on every scrape; concurrent scrapes share one count', async () => {
    const methods: string[] = [];
    const counting: Interceptor = (options, nextCall) => {
      methods.push(options.method_definition.path);
      return nextCall(options) as ReturnType<Interceptor>;
    };
    const connection = await Connection.connect({
      address: suite.stack.temporal.address,
      interceptors: [counting],
    });
    try {
      const client = new Client({
        connection,
        dataConverter: encryptedDataConverter(suite.stack.environment.encryptionKeys),
      });
      const url = await apiWith({ client });
      const scrapes = await Promise.all(Array.from({ length: 5 }, () => call(url, 'GET', '/metrics')));
      for (let i = 0; i < 3; i++) scrapes.push(await call(url, 'GET', '/metrics'));
      for (const scrape of scrapes) {
        assert.equal(scrape.status, 200);
        assert.match(String(scrape.body), /lethe_requests\{state="/);
      }
      const counts = methods.filter((m) => m.endsWith('/CountWorkflowExecutions')).length;
      assert.equal(counts, REQUEST_STATES.length, 'one count per state for eight scrapes');
    } finally {
      await connection.close();
    }
  });

  it('records.csv escapes cells a spreadsheet would run as formulas', async () => {
    const email = `csv.${Date.now()}@example.com`;
    const fields = {
      formula: '=HYPERLINK("http://127.0.0.1/x","click")',
      plus: '+1+1',
      minus: '-2+3',
      at: '@SUM(A1)',
      tab: '\t=1',
      cr: '\r=1',
      plain: 'Jane',
    };
    const seeded = await call(suite.stack.crmUrl, 'POST', '/_sandbox/contacts', {
      key: null,
      body: { email, ...fields },
    });
    assert.equal(seeded.status, 201);
    const created = await suite.lethe.create({
      type: 'portability',
      auto_process: true,
      subject: { email },
      integrations: ['crm'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    const zip = await JSZip.loadAsync(await (await fetch(request.data_url!)).arrayBuffer());
    const csv = await zip.file('integrations/crm/records.csv')!.async('string');
    const [header, row] = csv.split('\r\n');
    assert.equal(header, 'id,email,formula,plus,minus,at,tab,cr,plain');
    assert.equal(
      row!.split(',').slice(2).join(','),
      `"'=HYPERLINK(""http://127.0.0.1/x"",""click"")","'+1+1","'-2+3","'@SUM(A1)","'\t=1","'\r=1",Jane`,
    );
  });

  it('downloads stream: the export zip and the error log are sent in chunks, not read whole first', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'jane.doe@example.com' },
      integrations: ['crm'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    for (const res of [
      await fetch(request.data_url!),
      await fetch(`${suite.stack.apiUrl}/v1/requests/${created.id}/export`, {
        headers: { 'X-Authorization': API_KEY },
      }),
    ]) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/zip');
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      const zip = await JSZip.loadAsync(await res.arrayBuffer());
      assert.ok(zip.file('manifest.json'), 'a whole zip');
    }
    const log = await fetch(`${suite.stack.apiUrl}/v1/requests/${created.id}/integrations/crm/error-log`, {
      headers: { 'X-Authorization': API_KEY },
    });
    assert.equal(log.status, 200);
    assert.equal(log.headers.get('transfer-encoding'), 'chunked');
    assert.match(log.headers.get('content-disposition') ?? '', /error-log\.json/);
    const body = (await log.json()) as { request_id: string; integration_id: string; entries: unknown[] };
    assert.equal(body.request_id, created.id);
    assert.equal(body.integration_id, 'crm');
    assert.ok(body.entries.length >= 1, 'the calls made');
  });

  it('the codec endpoint’s CORS answer allows no credentials: it uses no cookie', async () => {
    const res = await fetch(`${suite.stack.apiUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://127.0.0.1:8233', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
  });

  it('JSON sent as text/plain is refused for its content type, not as a missing field', async () => {
    const res = await call(suite.stack.apiUrl, 'POST', '/v1/requests', {
      rawBody: JSON.stringify({ type: 'access', subject: { email: 'a@example.com' } }),
      headers: { 'Content-Type': 'text/plain' },
    });
    assert.equal(res.status, 415, JSON.stringify(res.body));
    assert.equal(res.body.error.name, 'MALFORMED_PARAMETER');
    assert.match(res.body.error.message, /Content-Type.*application\/json/);
    // A POST without a body (an action) needs no content type.
    const action = await call(
      suite.stack.apiUrl,
      'POST',
      '/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/integrations/crm/stop',
    );
    assert.equal(action.status, 404);
  });
});
