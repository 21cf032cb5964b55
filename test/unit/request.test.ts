import assert from 'node:assert/strict';
import {
  dueDate,
  requestState,
  requestStatus,
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
