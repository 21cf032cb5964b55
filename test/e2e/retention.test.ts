import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RequestView } from '../../src/domain';
import { loadEnvironment } from '../../src/config/environment';
import type { DirectContactIntegrationConfig } from '../../src/domain';
import { createLetheActivities } from '../../src/worker/create-worker';
import { dataLeftOf, decodedText, filesHolding } from '../support/forgetting';
import { call, eventually } from '../support/http';
import { phaseOf, sweepRetention, useStack } from '../support/lethe';
import { getStack } from '../support/stack';

describe('retention: a closed request’s data is deleted by the retention sweep when its period ends (dev server)', function () {
  this.timeout(90_000);
  const suite = useStack();

  /** Sweeps as the schedule does, with a period that has just ended (visibility may list a close a moment late). */
  const sweepUntilPurged = (id: string) =>
    eventually(
      async () => {
        await sweepRetention(suite.stack, '1s');
        return suite.lethe.get(id);
      },
      (request) => request.purged_at !== null,
      { what: 'the sweep to purge the request', timeoutMs: 30_000, intervalMs: 500 },
    );

  it('within its period its data stays; after it, records, uploads and export are gone, and the request answers from its proof record', async () => {
    const { stack, lethe } = suite;
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
    const handle = stack.client.workflow.getHandle(created.id);
    assert.equal((await handle.describe()).status.name, 'COMPLETED', 'closed, its workflow completes');

    await sweepRetention(stack, '30d');
    const within = await lethe.get(created.id);
    assert.equal(within.purged_at, null, 'within its period: still there');
    assert.ok(existsSync(folder));
    const listed = await call(stack.apiUrl, 'GET', '/v1/requests?limit=100');
    assert.ok(
      (listed.body.requests as { id: string }[]).some((r) => r.id === created.id),
      'listed while it is retained',
    );

    const purged = await sweepUntilPurged(created.id);
    assert.equal(purged.state, 'Data accessed');
    assert.equal(purged.closed, true);
    assert.equal(purged.data_url, null);
    assert.deepEqual(phaseOf(purged, 'crm', 'access'), { state: 'Complete', detail: '3 records found' });
    assert.deepEqual(
      dataLeftOf(path.join(stack.dataDir, 'blobs'), created.id),
      [],
      'records, uploads, call log, journal and export deleted: only the proof is left',
    );
    const link = await fetch(request.data_url!);
    assert.equal(link.status, 404, 'the export link leads nowhere');
    const exported = await call(stack.apiUrl, 'GET', `/v1/requests/${created.id}/export`);
    assert.equal(exported.status, 404);
  });

  it('afterwards no identifier of the subject remains in the data folder, nor in what the request’s workflow published or ended with; the proof remains', async () => {
    const { stack, lethe } = suite;
    const unique = Date.now().toString(36);
    const subject = {
      email: `forget.${unique}@example.com`,
      phone: `+1555${Date.now() % 10_000_000}`,
      custom_id: `cust-${unique}`,
      name: `Oblivia ${unique}`,
    };
    const identifiers = Object.values(subject);
    stack.crm.contacts.set(`c_${unique}`, {
      id: `c_${unique}`,
      email: subject.email,
      phone: subject.phone,
      kind: 'contact',
      first_name: subject.name,
    });
    const created = await lethe.create({
      type: 'access',
      auto_process: true,
      subject,
      integrations: ['crm', 'warehouse'],
    });
    const answered = await lethe.answerAsOwner(created.id, 'dana.owner@example.com', {
      answer: 'files',
      files: [
        {
          name: `${subject.name}.csv`,
          content_base64: Buffer.from(`${subject.name},${subject.email},${subject.phone}`).toString('base64'),
        },
      ],
    });
    assert.equal(answered.status, 200);
    await lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    assert.notDeepEqual(
      filesHolding(stack.dataDir, identifiers),
      [],
      'the grep finds the data while it is kept',
    );

    const purged: RequestView = await sweepUntilPurged(created.id);

    assert.deepEqual(filesHolding(stack.dataDir, identifiers), [], 'no file under the data folder');

    const events = (await stack.client.workflow.getHandle(created.id).fetchHistory()).events ?? [];
    const started = await decodedText(stack, events.slice(0, 1));
    assert.ok(
      started.includes(subject.email),
      'the decoding sees the subject in what the request started with',
    );
    const published = await decodedText(
      stack,
      events.filter(
        (e) => e.workflowPropertiesModifiedEventAttributes || e.workflowExecutionCompletedEventAttributes,
      ),
    );
    assert.ok(published.length > 0, 'the request published its record');
    for (const identifier of [...identifiers, `${subject.name}.csv`]) {
      assert.ok(!published.includes(identifier), `the request’s memo or result holds "${identifier}"`);
    }
    const completed = events.at(-1)?.workflowExecutionCompletedEventAttributes;
    assert.ok(completed?.result, 'the workflow completed with a result');
    const record = JSON.parse(
      await decodedText(stack, [{ workflowExecutionCompletedEventAttributes: completed }]),
    ) as Record<string, unknown>;
    assert.equal(record.id, created.id, 'the result is the request’s record');
    assert.equal(record.type, 'access');
    assert.equal(record.regulation, 'gdpr');
    assert.equal(record.subject, undefined);
    assert.ok(record.closedAt && record.requestDate);

    const view = JSON.stringify(purged);
    for (const identifier of identifiers) assert.ok(!view.includes(identifier), `GET shows "${identifier}"`);
    assert.deepEqual(phaseOf(purged, 'warehouse', 'access'), {
      state: 'Complete',
      detail: '1 file uploaded',
    });
    assert.deepEqual(phaseOf(purged, 'crm', 'access'), { state: 'Complete', detail: '1 record found' });
    assert.ok(purged.purged_at);
    await sweepRetention(stack, '1s');
    assert.equal(
      (
        await eventually(
          () => call(stack.apiUrl, 'GET', `/v1/requests/${created.id}`),
          (r) => r.status === 200,
        )
      ).body.purged_at,
      purged.purged_at,
      'the proof stays readable, and a second sweep leaves it alone',
    );
  });
});

describe('retention: the outbox (no SMTP_URL) keeps mail per request, and the purge deletes it', function () {
  this.timeout(30_000);
  let dataDir: string;
  before(() => (dataDir = mkdtempSync(path.join(os.tmpdir(), 'lethe-outbox-'))));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('the owner’s email, with the identifiers and the live link, is gone with the request; other requests’ mail stays', async () => {
    const environment = loadEnvironment({
      LETHE_DATA_DIR: dataDir,
      LETHE_TOKEN_SECRET: 'test-secret-test-secret-test-secret-0123',
    });
    assert.equal(environment.smtpUrl, undefined, 'mail goes to the outbox');
    const stack = await getStack('time-skipping');
    const activities = createLetheActivities(environment, stack.client, stack.log);
    const warehouse = stack.config.integrations.find(
      (i): i is DirectContactIntegrationConfig => i.id === 'warehouse',
    )!;
    const subject = { email: 'outbox.subject@example.com', name: 'Otto Outbox' };
    const ask = (requestId: string) =>
      activities.sendOwnerRequest({
        requestId,
        requestType: 'access',
        phase: 'access',
        integration: warehouse,
        subject,
        deadline: '2030-01-01T00:00:00.000Z',
      });
    await ask('req_outboxgone');
    await ask('req_outboxkept');
    const outbox = path.join(dataDir, 'outbox');
    assert.equal(filesHolding(outbox, [subject.email, '/owner/']).length, 4, 'two mails, .eml and .txt each');

    await activities.purgeRequestData('req_outboxgone');

    const left = filesHolding(outbox, [subject.email]);
    assert.equal(left.length, 2, `only the other request's mail is left: ${left.join('; ')}`);
    assert.ok(left.every((file) => file.startsWith('req_outboxkept')));
  });
});
