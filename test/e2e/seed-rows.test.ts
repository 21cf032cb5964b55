import assert from 'node:assert/strict';
import { call, eventually } from '../support/http';
import { LetheApi } from '../support/lethe';
import { getStack, type Stack } from '../support/stack';
import { REACHED, Scenario, files, seedRow } from '../seed/scenario';
import { SEED_ROWS, rowKey, type SeedRow } from '../seed/seed-rows';

/**
 * Every row of the seed's integration status tables, reached through the HTTP API against the
 * real server. Each scenario is one request; its tests run in order. Rows needing days to pass run
 * on the time-skipping server (last scenario).
 */
describe('every integration state of the seed tables', function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async function () {
    this.timeout(120_000);
    stack = await getStack();
  });
  const stackOf = () => stack;
  const at = Date.now();

  const seedContacts = (email: string, count: number) => async () => {
    for (let i = 0; i < count; i++) {
      await call(stack.crmUrl, 'POST', '/_sandbox/contacts', {
        body: { email, kind: 'note', n: i },
        key: null,
      });
    }
  };
  const slowNext = (method: string, ms: number) => () =>
    call(stack.crmUrl, 'POST', '/_sandbox/faults', {
      body: { method, path: undefined, delay_ms: ms, times: 1 },
      key: null,
    });

  type Table = SeedRow['table'];
  const access = (
    table: Table,
    kind: SeedRow['kind'],
    state: SeedRow['state'],
    detail: string | null = null,
  ) => seedRow(table, 'access', kind, state, detail);
  const deletion = (kind: SeedRow['kind'], state: SeedRow['state'], detail: string | null = null) =>
    seedRow('deletion request', 'deletion', kind, state, detail);

  describe('access request: stages, manual start, skipped access, records and files', () => {
    const email = `seed-a-${at}@example.com`;
    const s = new Scenario(stackOf, {
      type: 'access',
      subject: { email },
      integrations: [
        'crm',
        'crm-stage2',
        'crm-manual',
        'crm-no-access',
        'warehouse',
        'dc-stage2',
        'dc-manual',
      ],
    });
    const t: Table = 'access request';
    s.step('the CRM holds 3 records about the subject', async () => seedContacts(email, 3)());
    s.create();
    s.reachesAtCreation(access(t, 'api', 'Not Started'), 'crm');
    s.reachesAtCreation(access(t, 'api', 'Not Started', 'Will process in a workflow'), 'crm-stage2');
    s.reachesAtCreation(access(t, 'direct_contact', 'Not Started'), 'warehouse');
    s.reachesAtCreation(
      access(t, 'direct_contact', 'Not Started', 'Will process in a workflow'),
      'dc-stage2',
    );
    s.reaches(access(t, 'api', 'Pending'), 'crm-manual');
    s.reaches(access(t, 'direct_contact', 'Pending'), 'dc-manual');
    s.reaches(access(t, 'api', 'Complete', 'Access skipped'), 'crm-no-access');
    s.reaches(access(t, 'api', 'Complete', '# records found'), 'crm', '3 records found');
    s.reaches(access(t, 'direct_contact', 'Processing', 'Due in # days'), 'warehouse', 'Due in 14 days');
    s.step('later stages wait while the first is not complete', async (sc) => {
      const request = await new LetheApi(stack).get(sc.id);
      const stage2 = request.integrations.filter((i) => i.stage === 2).map((i) => i.access.detail);
      assert.deepEqual(stage2, ['Will process in a workflow', 'Will process in a workflow']);
    });
    s.act('crm-manual', 'start');
    s.reaches(access(t, 'api', 'Complete', '# records found'), 'crm-manual', '3 records found');
    s.ownerAnswers('warehouse', 'access', files('orders.csv', 'tickets.json'));
    s.reaches(
      access(t, 'direct_contact', 'Complete', '# of files uploaded'),
      'warehouse',
      '2 files uploaded',
    );
    s.act('dc-manual', 'start');
    s.reaches(access(t, 'direct_contact', 'Processing', 'Due in # days'), 'dc-manual', 'Due in 14 days');
    s.act('dc-manual', 'stop');
    s.reaches(access(t, 'direct_contact', 'Complete', 'Stopped processing'), 'dc-manual');
    s.reaches(access(t, 'direct_contact', 'Processing', 'Due in # days'), 'dc-stage2', 'Due in 14 days');
    s.ownerAnswers('dc-stage2', 'access', { answer: 'no_data' });
    s.reaches(access(t, 'direct_contact', 'Complete', 'No files uploaded'), 'dc-stage2');
    s.reaches(access(t, 'api', 'Complete', '# records found'), 'crm-stage2', '3 records found');
    s.requestState('Data accessed');
    s.select(['crm', 'warehouse']);
    s.requestState('Data accessed', true);
  });

  describe('access request: submitted, errors, no records, no response', () => {
    const s = new Scenario(stackOf, {
      type: 'access',
      subject: { email: `seed-b-${at}@example.com` },
      integrations: ['crm', 'crm-wrong-key', 'quick-skip', 'quick-pause', 'dc-disconnected'],
    });
    const t: Table = 'access request';
    s.step('the CRM will answer the next call slowly', async () => void (await slowNext('GET', 2000)()));
    s.create();
    s.reaches(access(t, 'api', 'Processing', 'Request submitted'), 'crm');
    s.reaches(access(t, 'api', 'Error', '*'), 'crm-wrong-key', 'Authorization error');
    s.reaches(access(t, 'direct_contact', 'Error', '*'), 'dc-disconnected', 'Disconnected integration');
    s.reaches(access(t, 'api', 'Complete', 'No records found'), 'crm');
    s.reaches(access(t, 'direct_contact', 'Processing', 'Access skipped (no response)'), 'quick-skip');
    s.reaches(access(t, 'direct_contact', 'Processing', 'Due # days ago'), 'quick-pause', 'Due 1 day ago');
    s.act('crm-wrong-key', 'stop');
    s.act('dc-disconnected', 'stop');
    s.act('quick-pause', 'skip');
    s.reaches(access(t, 'direct_contact', 'Complete', 'Access skipped (no response)'), 'quick-skip');
    s.reaches(access(t, 'direct_contact', 'Complete', 'Access skipped (no response)'), 'quick-pause');
    s.requestState('Data accessed');
  });

  describe('deletion request: full deletion, skipped deletion, owners’ deletion answers', () => {
    const email = `seed-c-${at}@example.com`;
    const s = new Scenario(stackOf, {
      type: 'deletion',
      subject: { email },
      integrations: [
        'crm',
        'crm-stage2',
        'crm-manual',
        'crm-no-access',
        'crm-full',
        'crm-keep',
        'warehouse',
        'dc-stage2',
        'dc-manual',
        'dc-full',
      ],
    });
    const t: Table = 'deletion request';
    s.step('the CRM holds 3 records about the subject', async () => seedContacts(email, 3)());
    s.create();
    s.reachesAtCreation(access(t, 'api', 'Not Started'), 'crm');
    s.reachesAtCreation(access(t, 'api', 'Not Started', 'No extraction'), 'crm-full');
    s.reachesAtCreation(access(t, 'api', 'Not Started', 'Will process in a workflow'), 'crm-stage2');
    s.reachesAtCreation(access(t, 'direct_contact', 'Not Started'), 'warehouse');
    s.reachesAtCreation(access(t, 'direct_contact', 'Not Started', 'No extraction'), 'dc-full');
    s.reachesAtCreation(
      access(t, 'direct_contact', 'Not Started', 'Will process in a workflow'),
      'dc-stage2',
    );
    s.reachesAtCreation(deletion('api', 'Not Started'), 'crm');
    s.reachesAtCreation(deletion('api', 'Not Started', 'No extraction'), 'crm-full');
    s.reachesAtCreation(deletion('api', 'Not Started', 'Will process in a workflow'), 'crm-stage2');
    s.reachesAtCreation(deletion('direct_contact', 'Not Started'), 'warehouse');
    s.reachesAtCreation(deletion('direct_contact', 'Not Started', 'Will process in a workflow'), 'dc-stage2');
    s.reaches(access(t, 'api', 'Pending'), 'crm-manual');
    s.reaches(access(t, 'direct_contact', 'Pending'), 'dc-manual');
    s.reaches(access(t, 'api', 'Complete', 'Access skipped'), 'crm-no-access');
    s.reaches(access(t, 'api', 'Complete', 'Full deletion'), 'crm-full');
    s.reaches(access(t, 'api', 'Complete', '# records found'), 'crm', '3 records found');
    s.reaches(access(t, 'direct_contact', 'Processing', 'Due in # days'), 'warehouse', 'Due in 14 days');
    s.act('crm-manual', 'start');
    s.ownerAnswers('warehouse', 'access', files('export.csv', 'notes.txt', 'scan.pdf'));
    s.reaches(
      access(t, 'direct_contact', 'Complete', '# of files uploaded'),
      'warehouse',
      '3 files uploaded',
    );
    s.act('dc-manual', 'start');
    s.act('dc-manual', 'stop');
    s.reaches(access(t, 'direct_contact', 'Complete', 'Stopped processing'), 'dc-manual');
    s.ownerAnswers('dc-stage2', 'access', { answer: 'no_data' });
    s.reaches(access(t, 'direct_contact', 'Complete', 'No files uploaded'), 'dc-stage2');
    s.requestState('Data ready for deletion');
    s.reaches(deletion('api', 'Pending'), 'crm');
    s.reaches(deletion('direct_contact', 'Pending'), 'warehouse');
    s.reaches(deletion('api', 'Not Started', 'No extraction'), 'crm-full');
    s.select([
      'crm',
      'crm-stage2',
      'crm-manual',
      'crm-full',
      'crm-keep',
      'warehouse',
      'dc-manual',
      'dc-full',
    ]);
    s.reaches(deletion('api', 'Complete', '# records deleted'), 'crm', '3 records deleted');
    s.reaches(deletion('api', 'Complete', 'Deletion done'), 'crm-full');
    s.reaches(deletion('api', 'Complete', 'Deletion skipped'), 'crm-keep');
    s.reaches(deletion('api', 'Complete', 'Deletion skipped'), 'crm-no-access');
    s.reaches(deletion('direct_contact', 'Processing', 'Due in # days'), 'warehouse', 'Due in 14 days');
    s.reaches(deletion('direct_contact', 'Pending'), 'dc-manual');
    s.act('dc-manual', 'stop');
    s.reaches(deletion('direct_contact', 'Complete', 'Stopped processing'), 'dc-manual');
    s.ownerAnswers('warehouse', 'deletion', { answer: 'deleted' });
    s.reaches(deletion('direct_contact', 'Complete', 'Deletion done'), 'warehouse');
    s.ownerAnswers('dc-full', 'deletion', { answer: 'no_data' });
    s.reaches(deletion('direct_contact', 'Complete', 'Nothing to delete'), 'dc-full');
    s.act('crm-manual', 'start');
    s.step('an owner not selected is not asked to delete: Deletion skipped', async (sc) => {
      const request = await new LetheApi(stack).until(sc.id, (r) => r.closed, 'the request to close');
      const dc = request.integrations.find((i) => i.id === 'dc-stage2');
      assert.deepEqual(dc?.deletion && [dc.deletion.state, dc.deletion.detail], [
        'Complete',
        'Deletion skipped',
      ]);
    });
    s.requestState('Data deleted', true);
    s.step('the CRM holds nothing about the subject any more', async () => {
      assert.equal([...stack.crm.contacts.values()].filter((c) => c.email === email).length, 0);
    });
  });

  describe('deletion request: submitted, errors, no response, not deleted', () => {
    const email = `seed-d-${at}@example.com`;
    const s = new Scenario(stackOf, {
      type: 'deletion',
      subject: { email },
      integrations: ['crm', 'crm-wrong-key', 'dc-disconnected', 'quick-skip', 'quick-pause', 'warehouse'],
    });
    const t: Table = 'deletion request';
    s.step('the CRM holds 2 records, and will answer the next call slowly', async () => {
      await seedContacts(email, 2)();
      await slowNext('GET', 2000)();
    });
    s.create();
    s.reaches(access(t, 'api', 'Processing', 'Request submitted'), 'crm');
    s.reaches(access(t, 'api', 'Error', '*'), 'crm-wrong-key', 'Authorization error');
    s.reaches(access(t, 'direct_contact', 'Error', '*'), 'dc-disconnected', 'Disconnected integration');
    s.reaches(access(t, 'direct_contact', 'Processing', 'Access skipped (no response)'), 'quick-skip');
    s.reaches(access(t, 'direct_contact', 'Processing', 'Due # days ago'), 'quick-pause', 'Due 1 day ago');
    s.act('crm-wrong-key', 'stop');
    s.act('dc-disconnected', 'stop');
    s.act('quick-pause', 'skip');
    s.ownerAnswers('warehouse', 'access', { answer: 'no_data' });
    s.reaches(access(t, 'direct_contact', 'Complete', 'Access skipped (no response)'), 'quick-skip');
    s.requestState('Data ready for deletion');
    s.step('the CRM will answer the next delete slowly, and the one after with a 500', async () => {
      await slowNext('DELETE', 2000)();
      await call(stack.crmUrl, 'POST', '/_sandbox/faults', {
        body: { method: 'DELETE', status: 500, times: 1 },
        key: null,
      });
    });
    s.select(['crm', 'dc-disconnected', 'quick-skip', 'quick-pause', 'warehouse']);
    s.reaches(deletion('api', 'Processing', 'Request submitted'), 'crm');
    s.reaches(deletion('api', 'Error', '*'), 'crm', 'Internal Server Error');
    s.act('crm', 'retry');
    s.reaches(deletion('api', 'Complete', '# records deleted'), 'crm', '2 records deleted');
    s.reaches(deletion('direct_contact', 'Error', '*'), 'dc-disconnected', 'Disconnected integration');
    s.act('dc-disconnected', 'stop');
    s.reaches(deletion('direct_contact', 'Processing', 'Deletion skipped (no response)'), 'quick-skip');
    s.reaches(deletion('direct_contact', 'Processing', 'Due # days ago'), 'quick-pause', 'Due 1 day ago');
    s.act('quick-pause', 'stop');
    s.ownerAnswers('warehouse', 'deletion', { answer: 'not_deleted' });
    s.reaches(deletion('direct_contact', 'Complete', 'Data found, not deleted'), 'warehouse');
    s.requestState('Data deleted', true);
  });

  describe('deletion request: nothing found, nothing deleted', () => {
    const s = new Scenario(stackOf, {
      type: 'deletion',
      auto_process: true,
      subject: { email: `seed-e-${at}@example.com` },
      integrations: ['crm'],
    });
    s.create();
    s.reaches(access('deletion request', 'api', 'Complete', 'No records found'), 'crm');
    s.reaches(deletion('api', 'Complete', 'No records deleted'), 'crm');
    s.requestState('Data deleted', true);
  });
});

describe('the seed states that take days, on the time-skipping server', function () {
  this.timeout(60_000);
  let stack: Stack;
  before(async function () {
    this.timeout(120_000);
    stack = await getStack('time-skipping');
  });
  const s = new Scenario(() => stack, {
    type: 'access',
    subject: { email: 'slow-owner@example.com' },
    integrations: ['days-pause'],
  });
  const row = (state: SeedRow['state'], detail: string) =>
    seedRow('access request', 'access', 'direct_contact', state, detail);
  let events = 0;
  const historyLength = async (id: string) => {
    let count = 0;
    for (const event of (await stack.temporal.client.workflow.getHandle(id).fetchHistory()).events ?? []) {
      if (event) count += 1;
    }
    return count;
  };

  s.create();
  s.reaches(row('Processing', 'Due in # days'), 'days-pause', 'Due in 14 days');
  s.step('three days pass, with no workflow activity', async (sc) => {
    // The owner's email went out, and the workflow has nothing left to do but wait.
    await eventually(
      async () => stack.smtp.inbox.filter((m) => m.subject.includes(sc.id)).length,
      (sent) => sent === 1,
      { what: 'the owner email' },
    );
    // The email arrives before its activity's completion is recorded: the count is taken once
    // no activity is pending, and the history has stopped growing.
    const child = stack.temporal.client.workflow.getHandle(`${sc.id}/days-pause/access`);
    await eventually(
      async () => (await child.describe()).raw.pendingActivities?.length ?? 0,
      (pending) => pending === 0,
      { what: 'the owner email activity to complete' },
    );
    let settled = -1;
    events = await historyLength(`${sc.id}/days-pause/access`);
    while (settled !== events) {
      settled = events;
      await new Promise((resolve) => setTimeout(resolve, 300));
      events = await historyLength(`${sc.id}/days-pause/access`);
    }
    await stack.temporal.sleep('3 days');
  });
  s.reaches(row('Processing', 'Due in # days'), 'days-pause', 'Due in 11 days');
  s.step('the label changed, the history did not', async (sc) => {
    assert.equal(await historyLength(`${sc.id}/days-pause/access`), events);
  });
  s.step('eight more days: the owner is reminded, three days before the deadline', async (sc) => {
    await stack.temporal.sleep('8 days');
    await eventually(
      async () => stack.smtp.inbox.filter((m) => m.subject.includes(sc.id) && m.subject.includes('Reminder')),
      (found) => found.length === 1,
      { what: 'the reminder' },
    );
  });
  s.reaches(row('Processing', 'Due in # days'), 'days-pause', 'Due in 3 days');
  s.step(
    'five more days: two days past the deadline',
    async () => void (await stack.temporal.sleep('5 days')),
  );
  s.reaches(row('Processing', 'Due # days ago'), 'days-pause', 'Due 2 days ago');
  s.step('the request is paused, and says why', async (sc) => {
    const res = await call(stack.apiUrl, 'GET', `/v1/requests/${sc.id}`);
    assert.equal(res.body.paused, true);
    assert.match(res.body.paused_reason, /Owner with days to answer/);
    const notice = await eventually(
      async () => stack.smtp.inbox.filter((m) => m.subject === `[Lethe] Privacy request ${sc.id} is paused`),
      (found) => found.length === 1,
      { what: 'the operators’ notice' },
    );
    assert.deepEqual(notice[0]!.to, ['privacy-ops@example.com']);
    assert.match(notice[0]!.text, /skip the integration/);
    assert.match(notice[0]!.html, /<p>/);
  });
  s.ownerAnswers('days-pause', 'access', files('late-export.csv'));
  s.reaches(row('Complete', '# of files uploaded'), 'days-pause', '1 file uploaded');
  s.step('the late answer un-paused the request, and the access phase closed', async (sc) => {
    const request = await new LetheApi(stack).until(
      sc.id,
      (r) => r.state === 'Data accessed',
      'Data accessed',
    );
    assert.equal(request.paused, false);
    assert.equal(request.paused_reason, null);
  });
});

describe('the seed tables, row by row', () => {
  it('has 62 rows, each reached by at least one test above', () => {
    assert.equal(SEED_ROWS.length, 62);
    const missing = SEED_ROWS.map(rowKey).filter((key) => !REACHED.has(key));
    assert.deepEqual(missing, [], 'seed rows no test reaches');
  });
});
