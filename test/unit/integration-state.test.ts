import assert from 'node:assert/strict';
import { describePhase, dueLabel, isPausing, type Phase, type PhaseStatus } from '../../src/domain';

const now = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const inDays = (days: number) => new Date(now.getTime() + days * DAY).toISOString();
const owner = (days: number, onNoResponse: 'skip' | 'pause', overdue = days <= 0): PhaseStatus => ({
  kind: 'awaiting_owner',
  deadline: inDays(days),
  onNoResponse,
  overdue,
});
const complete = (outcome: Extract<PhaseStatus, { kind: 'complete' }>['outcome']): PhaseStatus => ({
  kind: 'complete',
  outcome,
});

/** Every (state, detail) of the seed tables, from the status that produces it. */
const rows: [Phase, PhaseStatus, string, string | null][] = [
  ['access', { kind: 'not_started' }, 'Not Started', null],
  ['access', { kind: 'later_stage' }, 'Not Started', 'Will process in a workflow'],
  ['access', { kind: 'no_extraction' }, 'Not Started', 'No extraction'],
  ['access', { kind: 'pending', reason: 'manual_start' }, 'Pending', null],
  ['deletion', { kind: 'pending', reason: 'awaiting_selection' }, 'Pending', null],
  ['access', { kind: 'submitted' }, 'Processing', 'Request submitted'],
  [
    'deletion',
    { kind: 'submitted', attempt: 3, lastError: 'Internal Server Error' },
    'Processing',
    'Request submitted',
  ],
  ['access', owner(3, 'skip'), 'Processing', 'Due in 3 days'],
  ['access', owner(1, 'pause'), 'Processing', 'Due in 1 day'],
  ['deletion', owner(14, 'skip'), 'Processing', 'Due in 14 days'],
  ['access', owner(-0.5, 'skip'), 'Processing', 'Access skipped (no response)'],
  ['deletion', owner(-0.5, 'skip'), 'Processing', 'Deletion skipped (no response)'],
  ['access', owner(-2, 'pause'), 'Processing', 'Due 2 days ago'],
  ['deletion', owner(-1, 'pause'), 'Processing', 'Due 1 day ago'],
  [
    'access',
    { kind: 'error', message: 'Rate limit error', at: now.toISOString() },
    'Error',
    'Rate limit error',
  ],
  ['access', complete({ kind: 'access_skipped' }), 'Complete', 'Access skipped'],
  ['access', complete({ kind: 'full_deletion' }), 'Complete', 'Full deletion'],
  ['access', complete({ kind: 'records_found', count: 3 }), 'Complete', '3 records found'],
  ['access', complete({ kind: 'records_found', count: 1 }), 'Complete', '1 record found'],
  ['access', complete({ kind: 'records_found', count: 0 }), 'Complete', 'No records found'],
  ['access', complete({ kind: 'files_uploaded', count: 2 }), 'Complete', '2 files uploaded'],
  ['access', complete({ kind: 'files_uploaded', count: 1 }), 'Complete', '1 file uploaded'],
  ['access', complete({ kind: 'files_uploaded', count: 0 }), 'Complete', 'No files uploaded'],
  ['access', complete({ kind: 'skipped_no_response' }), 'Complete', 'Access skipped (no response)'],
  ['access', complete({ kind: 'stopped' }), 'Complete', 'Stopped processing'],
  ['deletion', complete({ kind: 'stopped' }), 'Complete', 'Stopped processing'],
  ['deletion', complete({ kind: 'deletion_skipped' }), 'Complete', 'Deletion skipped'],
  ['deletion', complete({ kind: 'deletion_done' }), 'Complete', 'Deletion done'],
  ['deletion', complete({ kind: 'records_deleted', count: 4 }), 'Complete', '4 records deleted'],
  ['deletion', complete({ kind: 'records_deleted', count: 1 }), 'Complete', '1 record deleted'],
  ['deletion', complete({ kind: 'records_deleted', count: 0 }), 'Complete', 'No records deleted'],
  ['deletion', complete({ kind: 'skipped_no_response' }), 'Complete', 'Deletion skipped (no response)'],
  ['deletion', complete({ kind: 'nothing_to_delete' }), 'Complete', 'Nothing to delete'],
  ['deletion', complete({ kind: 'data_found_not_deleted' }), 'Complete', 'Data found, not deleted'],
];

describe('describePhase: states and details exactly as the seed tables', () => {
  for (const [phase, status, state, detail] of rows) {
    it(`${phase}: ${state} / ${detail}`, () =>
      assert.deepEqual(describePhase(status, phase, now), { state, detail }));
  }

  it('a skip-configured deadline that has passed reads as skipped even before the timer fires', () => {
    assert.deepEqual(describePhase(owner(-1, 'skip', false), 'access', now), {
      state: 'Processing',
      detail: 'Access skipped (no response)',
    });
  });
});

describe('dueLabel: whole days left rounded up, whole days passed rounded down', () => {
  const rows: [number, string][] = [
    [14, 'Due in 14 days'],
    [2.1, 'Due in 3 days'],
    [1, 'Due in 1 day'],
    [0.01, 'Due in 1 day'],
    [0, 'Due 1 day ago'],
    [-1, 'Due 1 day ago'],
    [-1.5, 'Due 1 day ago'],
    [-2.01, 'Due 2 days ago'],
    [-30, 'Due 30 days ago'],
  ];
  for (const [days, label] of rows) {
    it(`${days} days → ${label}`, () => assert.equal(dueLabel(new Date(inDays(days)), now), label));
  }
});

describe('isPausing: a pause-configured owner past the deadline, by the clock', () => {
  const rows: [string, PhaseStatus, boolean][] = [
    ['before the deadline', owner(1, 'pause', false), false],
    ['past the deadline, timer not yet handled', owner(-0.1, 'pause', false), true],
    ['past the deadline, timer handled', owner(-2, 'pause', true), true],
    ['skip-configured', owner(-2, 'skip', true), false],
    ['not a direct contact', { kind: 'submitted' }, false],
  ];
  for (const [name, status, expected] of rows) {
    it(`${name}: ${expected}`, () => assert.equal(isPausing(status, now), expected));
  }
});
