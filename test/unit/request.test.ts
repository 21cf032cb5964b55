import assert from 'node:assert/strict';
import {
  closeEarly,
  dueDate,
  newRequestSnapshot,
  presentRequest,
  requestState,
  requestStatus,
  shownState,
  type ClosedEarly,
  type PrivacyRequestInput,
  type Regulation,
  type RequestStep,
  type RequestType,
} from '../../src/domain';

describe('the request state summary', () => {
  const rows: [RequestType, RequestStep, string, string][] = [
    ['access', 'accessing', 'Accessing data', 'pending'],
    ['access', 'awaiting_selection', 'Data accessed', 'pending'],
    ['access', 'closed', 'Data accessed', 'done'],
    ['access_categories', 'accessing', 'Accessing data', 'pending'],
    ['access_categories', 'awaiting_selection', 'Data accessed', 'pending'],
    ['access_categories', 'closed', 'Data accessed', 'done'],
    ['portability', 'accessing', 'Accessing data', 'pending'],
    ['portability', 'awaiting_selection', 'Data accessed', 'pending'],
    ['portability', 'closed', 'Data accessed', 'done'],
    ['deletion', 'accessing', 'Accessing data', 'pending'],
    ['deletion', 'awaiting_selection', 'Data ready for deletion', 'pending'],
    ['deletion', 'deleting', 'Deleting data', 'pending'],
    ['deletion', 'closed', 'Data deleted', 'done'],
  ];
  for (const [type, step, state, status] of rows) {
    it(`${type} at ${step}: ${state}, ${status}`, () => {
      assert.equal(requestState(type, step), state);
      assert.equal(requestStatus(step), status);
    });
  }
});

describe('due dates by regulation', () => {
  const rows: [Regulation, string][] = [
    ['gdpr', '2026-12-23T10:00:00.000Z'],
    ['ccpa', '2027-01-07T10:00:00.000Z'],
  ];
  for (const [regulation, expected] of rows) {
    it(regulation, () =>
      assert.equal(dueDate(new Date('2026-11-23T10:00:00Z'), regulation).toISOString(), expected),
    );
  }
});

describe('a request that closes early (cancelled, or its package could not be built)', () => {
  const input: PrivacyRequestInput = {
    id: 'req_closeearly',
    type: 'deletion',
    regulation: 'gdpr',
    requestDate: '2026-11-23T10:00:00.000Z',
    triggerType: 'api',
    autoProcess: false,
    subject: { email: 'someone@example.com' },
    integrations: [],
  };
  const rows: [RequestType, RequestStep, ClosedEarly['cause'], string][] = [
    ['deletion', 'accessing', 'cancelled', 'Accessing data'],
    ['deletion', 'awaiting_selection', 'cancelled', 'Data ready for deletion'],
    ['deletion', 'deleting', 'cancelled', 'Deleting data'],
    ['access', 'accessing', 'cancelled', 'Accessing data'],
    ['access', 'awaiting_selection', 'export_failed', 'Data accessed'],
  ];
  for (const [type, step, cause, state] of rows) {
    it(`${type} ${cause} at ${step}: closed, done, still "${state}", its reason shown`, () => {
      const snapshot = newRequestSnapshot({ ...input, type });
      snapshot.step = step;
      snapshot.integrations = [
        {
          id: 'crm',
          name: 'CRM',
          type: 'api',
          stage: 1,
          access: { kind: 'complete', outcome: { kind: 'records_found', count: 0 } },
          deletion: type === 'deletion' ? { kind: 'submitted' } : null,
          history: [],
          uploads: [],
        },
      ];
      closeEarly(snapshot, cause, '2026-11-24T10:00:00.000Z');
      const view = presentRequest(snapshot, new Date('2026-11-24T10:00:00.000Z'));
      assert.equal(view.closed, true);
      assert.equal(view.status, 'done');
      assert.equal(view.state, state);
      assert.equal(shownState(snapshot), state);
      assert.equal(view.closed_at, '2026-11-24T10:00:00.000Z');
      assert.match(view.closed_reason ?? '', cause === 'cancelled' ? /^Cancelled/ : /could not be built/);
      assert.equal(view.error, null, 'never "user not found": it did not finish looking');
      assert.deepEqual(
        view.integrations[0]?.access,
        { state: 'Complete', detail: 'No records found' },
        'a completed phase stays as it was',
      );
      if (type === 'deletion') {
        assert.deepEqual(view.integrations[0]?.deletion, { state: 'Complete', detail: 'Stopped processing' });
      }
    });
  }

  it('a request that ran its course shows no reason', () => {
    const snapshot = newRequestSnapshot(input);
    snapshot.step = 'closed';
    assert.equal(presentRequest(snapshot, new Date()).closed_reason, null);
    assert.equal(shownState(snapshot), 'Data deleted');
  });
});
