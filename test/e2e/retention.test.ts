import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RequestView } from '../../src/domain';
import { loadEnvironment } from '../../src/config/environment';
import type { DirectContactIntegrationConfig } from '../../src/domain';
import { createLetheActivities } from '../../src/worker/create-worker';
import { decodedText, filesHolding } from '../support/forgetting';
import { call, eventually } from '../support/http';
import { LetheApi, phaseOf } from '../support/lethe';
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

  it('30 days after closing: records, uploads and export are gone, and the request answers from its proof record', async () => {
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
    const day29 = await lethe.get(created.id);
    assert.equal(day29.purged_at, null, 'day 29: still there');

    await stack.temporal.sleep('2 days');
    const purged = await lethe.until(created.id, (r) => r.purged_at !== null, 'the request to be purged');
    assert.equal(purged.state, 'Data accessed');
    assert.equal(purged.closed, true);
    assert.equal(purged.data_url, null);
    assert.deepEqual(phaseOf(purged, 'crm', 'access'), { state: 'Complete', detail: '3 records found' });
    assert.ok(!existsSync(folder), 'records, uploads, call log, journal and export deleted');
    const link = await fetch(request.data_url!);
    assert.equal(link.status, 404, 'the export link leads nowhere');
    const exported = await call(stack.apiUrl, 'GET', `/v1/requests/${created.id}/export`);
    assert.equal(exported.status, 404);
  });

  it('afterwards no identifier of the subject remains in the data folder or in the history after the purge; the proof remains', async () => {
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

    await stack.temporal.sleep('31 days');
    const purged: RequestView = await lethe.until(created.id, (r) => r.purged_at !== null, 'the purge');

    assert.deepEqual(filesHolding(stack.dataDir, identifiers), [], 'no file under the data folder');

    const events = (await stack.client.workflow.getHandle(created.id).fetchHistory()).events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'purgeRequestData',
    );
    assert.ok(scheduled, 'the purge ran');
    const purgeDone = events.findIndex(
      (e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId),
    );
    assert.ok(purgeDone > 0, 'the purge completed');
    const before = await decodedText(stack, events.slice(0, purgeDone));
    assert.ok(before.includes(subject.email), 'the decoding sees the subject before the purge');
    const after = await decodedText(stack, events.slice(purgeDone + 1));
    const completed = events.at(-1)?.workflowExecutionCompletedEventAttributes;
    assert.ok(completed?.result, 'the workflow completed with a result');
    for (const identifier of [...identifiers, `${subject.name}.csv`]) {
      assert.ok(!after.includes(identifier), `the history after the purge holds "${identifier}"`);
    }
    const proof = JSON.parse(
      await decodedText(stack, [{ workflowExecutionCompletedEventAttributes: completed }]),
    ) as Record<string, unknown>;
    assert.equal(proof.id, created.id, 'the result is the proof record');
    assert.equal(proof.type, 'access');
    assert.equal(proof.regulation, 'gdpr');
    assert.ok(proof.closedAt && proof.purgedAt && proof.requestDate);

    const view = JSON.stringify(purged);
    for (const identifier of identifiers) assert.ok(!view.includes(identifier), `GET shows "${identifier}"`);
    assert.deepEqual(phaseOf(purged, 'warehouse', 'access'), {
      state: 'Complete',
      detail: '1 file uploaded',
    });
    assert.deepEqual(phaseOf(purged, 'crm', 'access'), { state: 'Complete', detail: '1 record found' });
    assert.equal(
      (
        await eventually(
          () => call(stack.apiUrl, 'GET', `/v1/requests/${created.id}`),
          (r) => r.status === 200,
        )
      ).body.purged_at,
      purged.purged_at,
      'the proof stays readable',
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
