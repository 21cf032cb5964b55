import assert from 'node:assert/strict';
import { temporal } from '@temporalio/proto';
import { call } from '../support/http';
import { phaseOf, useStack } from '../support/lethe';

const SUBJECT = {
  email: 'private.person@example.org',
  phone: '+15557654321',
  custom_id: 'customer-9f3k2',
  name: 'Perdita Private',
};
const IDENTIFIERS = Object.values(SUBJECT);

describe('no personal data in plaintext outside the blob store', function () {
  this.timeout(90_000);
  const suite = useStack();
  let requestId: string;

  /** Every history of the request, as Temporal stores it (protobuf bytes, payloads as the codec left them). */
  const rawHistories = async (id: string) => {
    const raw = suite.stack.temporal.client;
    const ids = [id];
    for await (const execution of raw.workflow.list({ query: `WorkflowId STARTS_WITH "${id}/"` })) {
      ids.push(execution.workflowId);
    }
    return Promise.all(
      ids.map(async (workflowId) => ({
        workflowId,
        history: await raw.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
  };

  before(async function () {
    this.timeout(60_000);
    suite.stack.crm.contacts.set('c_private', { id: 'c_private', email: SUBJECT.email, kind: 'contact' });
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: SUBJECT,
      integrations: ['crm', 'warehouse'],
    });
    requestId = created.id;
    const answered = await suite.lethe.answerAsOwner(requestId, 'dana.owner@example.com', {
      answer: 'files',
      files: [
        {
          name: 'perdita.csv',
          content_base64: Buffer.from(`${SUBJECT.name},${SUBJECT.email}`).toString('base64'),
        },
      ],
    });
    assert.equal(answered.status, 200);
    const request = await suite.lethe.until(requestId, (r) => r.closed && r.data_url !== null, 'the export');
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Complete', detail: '1 record found' });
  });

  it('the histories Temporal stores hold no identifier of the subject, nor the records or answers', async () => {
    const histories = await rawHistories(requestId);
    assert.ok(histories.length >= 3, 'the request and its integrations');
    for (const { workflowId, history } of histories) {
      const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
      for (const identifier of IDENTIFIERS) {
        assert.ok(!bytes.includes(identifier), `${workflowId} stores "${identifier}" in plaintext`);
      }
      assert.ok(!bytes.includes('perdita.csv'), `${workflowId} stores the owner's file name in plaintext`);
    }
  });

  it('the codec endpoint decodes them for operators (API key, or the Web UI’s path token with CORS)', async () => {
    const [request] = await rawHistories(requestId);
    const started = request!.history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payloads = (started?.input?.payloads ?? []).map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? []).toString('base64'),
    }));
    assert.equal(payloads.length, 1);
    assert.equal(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString(), 'binary/encrypted');

    const decoded = await call(suite.stack.apiUrl, 'POST', '/codec/decode', { body: { payloads } });
    assert.equal(decoded.status, 200);
    const input = JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString('utf8'));
    assert.deepEqual(input.subject, SUBJECT);

    const token = suite.stack.environment.codecSecrets[0];
    const fromUi = await call(suite.stack.apiUrl, 'POST', `/codec/${token}/decode`, {
      key: null,
      body: { payloads },
      headers: { Origin: 'http://127.0.0.1:8233', 'X-Namespace': 'default' },
    });
    assert.equal(fromUi.status, 200);
    assert.equal(fromUi.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
    const preflight = await fetch(`${suite.stack.apiUrl}/codec/${token}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://127.0.0.1:8233', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);

    const anonymous = await call(suite.stack.apiUrl, 'POST', '/codec/decode', {
      key: null,
      body: { payloads },
    });
    assert.equal(anonymous.status, 401);
    const wrongToken = await call(suite.stack.apiUrl, 'POST', '/codec/not-the-token/decode', {
      key: null,
      body: { payloads },
    });
    assert.equal(wrongToken.status, 401);
    const otherOrigin = await call(suite.stack.apiUrl, 'POST', `/codec/${token}/decode`, {
      key: null,
      body: { payloads },
      headers: { Origin: 'http://evil.example' },
    });
    assert.equal(otherOrigin.headers.get('access-control-allow-origin'), null, 'no CORS for other origins');

    const reencoded = await call(suite.stack.apiUrl, 'POST', '/codec/encode', { body: decoded.body });
    assert.equal(reencoded.status, 200);
    assert.notEqual(reencoded.body.payloads[0].data, decoded.body.payloads[0].data);
  });

  it('search attributes, workflow ids, error logs and the product’s logs name no identifier', async () => {
    const description = await suite.stack.client.workflow.getHandle(requestId).describe();
    const attributes = JSON.stringify(description.typedSearchAttributes);
    for (const { workflowId } of await rawHistories(requestId)) {
      for (const identifier of IDENTIFIERS) {
        assert.ok(!workflowId.includes(identifier));
        assert.ok(!attributes.includes(identifier));
      }
    }
    const log = await call(suite.stack.apiUrl, 'GET', `/v1/requests/${requestId}/integrations/crm/error-log`);
    assert.ok(log.body.entries.length > 0, 'the call was logged');
    const logged = JSON.stringify(log.body) + suite.stack.logLines.join('');
    assert.ok(
      suite.stack.logLines.some((line) => line.includes(requestId)),
      'the run was logged',
    );
    for (const identifier of IDENTIFIERS) {
      assert.ok(!logged.includes(identifier), `"${identifier}" appears in the logs`);
    }
  });

  it('an integration that finds 50,000 records passes a blob key, never the records: every payload stays small', async () => {
    const email = `bulk-${Date.now()}@example.org`;
    for (let i = 0; i < 50_000; i++) {
      suite.stack.crm.contacts.set(`c_bulk_${i}`, { id: `c_bulk_${i}`, email, kind: 'event', n: i });
    }
    try {
      const created = await suite.lethe.create({
        type: 'access',
        auto_process: true,
        subject: { email },
        integrations: ['crm'],
      });
      const request = await suite.lethe.until(
        created.id,
        (r) => r.closed && r.data_url !== null,
        'the export',
        60_000,
      );
      assert.deepEqual(phaseOf(request, 'crm', 'access'), {
        state: 'Complete',
        detail: '50000 records found',
      });
      let largest = 0;
      for (const { history } of await rawHistories(created.id)) {
        for (const event of history.events ?? []) {
          const size = temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
          largest = Math.max(largest, size);
        }
      }
      // Temporal warns from 512 KB a payload; Lethe's events stay orders of magnitude below.
      assert.ok(largest < 32 * 1024, `the largest history event is ${largest} bytes`);
    } finally {
      for (let i = 0; i < 50_000; i++) suite.stack.crm.contacts.delete(`c_bulk_${i}`);
    }
  });
});
