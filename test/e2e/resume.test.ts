import assert from 'node:assert/strict';
import type { DeletionStep, Resumable } from '../../src/activities/connectors/connector';
import { httpConnector } from '../../src/activities/connectors/http';
import { eventually } from '../support/http';
import {
  accessWithSlowCrmCall,
  injectCrmFault,
  phaseOf,
  untilCrmFaultsUsed,
  useStack,
} from '../support/lethe';
import { CRM_TOKEN } from '../support/stack';

describe('an API integration cut short resumes where it was', function () {
  this.timeout(90_000);
  const suite = useStack();

  const crmCalls = (since: number, method: string, pathStart: string) =>
    suite.stack.crm.calls.filter(
      (c) => c.method === method && c.path.startsWith(pathStart) && Date.parse(c.at) >= since,
    );
  /** `count` contacts with one new email address. */
  const contactsOf = (label: string, count: number) => {
    const email = `${label}-${Date.now()}@example.com`;
    for (let i = 0; i < count; i++) {
      const id = `c_${label}_${Date.now()}_${i}`;
      suite.stack.crm.contacts.set(id, { id, email, kind: 'event', n: i });
    }
    return email;
  };

  afterEach(async function () {
    suite.stack.crm.faults.length = 0;
    // Whatever happened, later tests get a running worker.
    await suite.stack.stopWorker();
    await suite.stack.startWorker();
  });

  it('a page loop that failed on page 3 goes on from page 3 when an operator retries', async () => {
    const since = Date.now();
    const email = contactsOf('paged-retry', 35);
    await injectCrmFault(suite.stack, { status: 400, times: 1, after: 2, method: 'GET', path: '/contacts' });
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email },
      integrations: ['crm-paged'],
    });
    await suite.lethe.untilIntegration(created.id, 'crm-paged', 'access', {
      state: 'Error',
      detail: 'Request error',
    });
    assert.deepEqual(
      crmCalls(since, 'GET', '/contacts').map((c) => c.status),
      [200, 200, 400],
    );

    const retried = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm-paged/retry`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'crm-paged', 'access'), {
      state: 'Complete',
      detail: '35 records found',
    });
    const pages = crmCalls(since, 'GET', '/contacts').map((c) =>
      new URL(c.url, 'http://x').searchParams.get('page'),
    );
    assert.deepEqual(pages, ['1', '2', '3', '3', '4'], 'pages 1 and 2 were read once');
  });

  it('a worker shut down in the middle of a page loop: the next worker reads on from that page', async () => {
    const since = Date.now();
    const email = contactsOf('paged-shutdown', 25);
    // The second page is slow: the worker shuts down while it is being read.
    await injectCrmFault(suite.stack, {
      delay_ms: 8000,
      times: 1,
      after: 1,
      method: 'GET',
      path: '/contacts',
    });
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email },
      integrations: ['crm-paged'],
    });
    await untilCrmFaultsUsed(suite.stack, 'the slow second page to be asked for');
    const shutdownStarted = Date.now();
    await suite.stack.stopWorker();
    assert.ok(Date.now() - shutdownStarted < 6000, 'the call in flight was aborted, not waited for');
    await suite.stack.startWorker();

    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'crm-paged', 'access'), {
      state: 'Complete',
      detail: '25 records found',
    });
    const pages = crmCalls(since, 'GET', '/contacts').map((c) => ({
      page: new URL(c.url, 'http://x').searchParams.get('page'),
      status: c.status,
    }));
    assert.deepEqual(
      pages.filter((p) => p.status === 200).map((p) => p.page),
      ['1', '2', '3'],
      'page 1 read once, then on from page 2',
    );
    assert.deepEqual(
      pages.filter((p) => p.status === 0).map((p) => p.page),
      ['2'],
      'the slow page 2 was abandoned by the client',
    );
  });

  it('a deletion that failed on its third record deletes only what is left when retried', async () => {
    const since = Date.now();
    const email = contactsOf('delete-retry', 5);
    await injectCrmFault(suite.stack, {
      status: 400,
      times: 1,
      after: 2,
      method: 'DELETE',
      path: '/contacts/*',
    });
    const created = await suite.lethe.create({
      type: 'deletion',
      auto_process: true,
      subject: { email },
      integrations: ['crm'],
    });
    await suite.lethe.untilIntegration(created.id, 'crm', 'deletion', {
      state: 'Error',
      detail: 'Request error',
    });
    const retried = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm/retry`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    const request = await suite.lethe.until(created.id, (r) => r.closed, 'the request to close');
    assert.deepEqual(phaseOf(request, 'crm', 'deletion'), { state: 'Complete', detail: '5 records deleted' });
    const deletes = crmCalls(since, 'DELETE', '/contacts/');
    assert.deepEqual(
      deletes.map((c) => c.status),
      [204, 204, 400, 204, 204, 204],
      'the two deleted records were not deleted again',
    );
    assert.equal(new Set(deletes.filter((c) => c.status === 204).map((c) => c.path)).size, 5);
    assert.equal(
      crmCalls(since, 'GET', '/contacts').length,
      1,
      'a delete the CRM refused is not in doubt: the retry did not look for it first',
    );
  });

  describe('a delete whose answer was lost (the attempt ended with it on its way)', () => {
    /** Records as the activity hands them over, one at a time. */
    const oneByOne = async function* <T>(items: T[]) {
      yield* items;
    };
    const connectorFor = () => {
      const crm = suite.stack.config.integrations.find((i) => i.id === 'crm');
      assert.ok(crm?.type === 'api');
      return httpConnector.create(httpConnector.optionsSchema.parse(crm.options), {
        secrets: (name) => (name === 'SANDBOX_CRM_TOKEN' ? CRM_TOKEN : undefined),
        onCall: () => undefined,
      });
    };
    /** The steps of an attempt that ends (a kill, say) just before its first delete leaves. */
    const attemptCutShort = async (email: string) => {
      const steps: DeletionStep[] = [];
      const progress: Resumable<DeletionStep> = {
        earlier: [],
        note: async (step) => {
          steps.push(step);
          if ('sending' in step) throw new Error('the worker died here');
        },
      };
      await assert.rejects(connectorFor().deleteRecords({ email }, undefined, progress), /worker died/);
      assert.equal(steps.length, 1);
      return steps;
    };
    it('is looked for before it is sent again: done already, it is counted and not sent', async () => {
      const email = contactsOf('lost-answer', 3);
      const steps = await attemptCutShort(email);
      // The service did delete the first record; its answer never came back.
      const first = [...suite.stack.crm.contacts.values()].find((c) => c.email === email)!;
      suite.stack.crm.contacts.delete(first.id as string);
      const since = Date.now();
      const answer = await connectorFor().deleteRecords({ email }, undefined, {
        earlier: steps,
        note: async () => undefined,
      });
      assert.deepEqual(answer, { done: true, value: 3 });
      const deletes = crmCalls(since, 'DELETE', '/contacts/');
      assert.equal(deletes.length, 2);
      assert.ok(
        !deletes.some((c) => c.path === `/contacts/${first.id}`),
        'the lost delete was not sent again',
      );
    });

    it('is sent again when the record is still there', async () => {
      const email = contactsOf('never-left', 3);
      const steps = await attemptCutShort(email);
      const since = Date.now();
      const records = [...suite.stack.crm.contacts.values()].filter((c) => c.email === email);
      const answer = await connectorFor().deleteRecords({ email }, oneByOne(records), {
        earlier: steps,
        note: async () => undefined,
      });
      assert.deepEqual(answer, { done: true, value: 3 });
      assert.equal(crmCalls(since, 'DELETE', '/contacts/').filter((c) => c.status === 204).length, 3);
      assert.equal([...suite.stack.crm.contacts.values()].filter((c) => c.email === email).length, 0);
    });
  });

  it('a stop aborts the call in flight at once', async () => {
    const since = Date.now();
    const created = await accessWithSlowCrmCall(suite, 'jane.doe@example.com');
    const stopped = await suite.lethe.post(`/v1/requests/${created.id}/integrations/crm/stop`);
    assert.equal(stopped.status, 200, JSON.stringify(stopped.body));
    const [aborted] = await eventually(
      async () => crmCalls(since, 'GET', '/contacts'),
      (calls) => calls.length > 0,
      { what: 'the sandbox to see the call end' },
    );
    assert.equal(aborted?.status, 0, 'the client closed the call before the answer');
    assert.ok(Date.parse(aborted!.at) - since < 6000, 'well within the 8 s the answer would have taken');
    const request = await suite.lethe.get(created.id);
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Complete', detail: 'Stopped processing' });
  });
});
