import assert from 'node:assert/strict';
import path from 'node:path';
import { loadHistories, replayAgainstCurrentCode, type NamedHistory } from './fixtures';

/**
 * Requests in flight on the release of commit 9077e37, stopped at every step of their life and
 * recorded by record-fixtures.ts: accessing (a call in flight, a retry waiting out a Retry-After, an
 * error waiting for an operator, a start by hand), waiting on owners, awaiting the selection, a
 * deletion mid-way, and closed, sleeping out their retention. They are the long-lived histories a
 * deploy must replay: each must go on, on the current code, from where it was. batch-polling was
 * recorded later (commit c3998e3), by the code that polled a job with a timer and an activity per poll.
 */
const histories = loadHistories(path.join(__dirname, 'running'));

/** What a history waits on at its end: timers and activities not yet over, and children still running. */
function pendingWork({ history }: NamedHistory): string[] {
  const open = new Map<string, string>();
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    const timer = e.timerStartedEventAttributes;
    if (timer) open.set(id, `timer ${String(timer.startToFireTimeout?.seconds)}s`);
    const activity = e.activityTaskScheduledEventAttributes;
    if (activity) open.set(id, `activity ${activity.activityType?.name ?? ''}`);
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
    if (child) open.set(id, `child ${(child.workflowId ?? '').replace(/^req_\w+\//, '')}`);
    for (const over of [e.timerFiredEventAttributes, e.timerCanceledEventAttributes]) {
      if (over) open.delete(String(over.startedEventId));
    }
    for (const over of [
      e.activityTaskCompletedEventAttributes,
      e.activityTaskFailedEventAttributes,
      e.activityTaskTimedOutEventAttributes,
      e.activityTaskCanceledEventAttributes,
    ]) {
      if (over) open.delete(String(over.scheduledEventId));
    }
    for (const over of [
      e.childWorkflowExecutionCompletedEventAttributes,
      e.childWorkflowExecutionFailedEventAttributes,
      e.childWorkflowExecutionCanceledEventAttributes,
      e.childWorkflowExecutionTerminatedEventAttributes,
      e.childWorkflowExecutionTimedOutEventAttributes,
      e.startChildWorkflowExecutionFailedEventAttributes,
    ]) {
      if (over) open.delete(String(over.initiatedEventId));
    }
  }
  return [...open.values()].sort();
}

const closed = ({ history }: NamedHistory) =>
  (history.events ?? []).some(
    (e) =>
      e.workflowExecutionCompletedEventAttributes ??
      e.workflowExecutionFailedEventAttributes ??
      e.workflowExecutionCanceledEventAttributes ??
      e.workflowExecutionTerminatedEventAttributes,
  );

const RETENTION = 'timer 2592000s';
/** A 14-day deadline, reminded 3 days before: the reminder is due first. */
const REMINDER = 'timer 950399s';

/** Each running history, and what it is waiting on when recorded. */
const WAITING: Record<string, string[]> = {
  'call-in-flight/request': ['child crm/access'],
  'call-in-flight/crm.access': ['activity callConnector'],
  'retry-after/request': ['child crm/access'],
  'retry-after/crm.access': ['timer 3600s'],
  'batch-polling/request': ['child batch/access'],
  // Polled twice already, the job still pending: waiting for the next poll.
  'batch-polling/batch.access': ['timer 1s'],
  'error-and-manual/request': ['child crm-wrong-key/access', 'child crm-manual/access'],
  // An operator's retry, stop or start: a signal, with nothing scheduled meanwhile.
  'error-and-manual/crm-wrong-key.access': [],
  'error-and-manual/crm-manual.access': [],
  'owner-waiting/request': ['child warehouse/access', 'child days-pause/access', 'child quick-pause/access'],
  'owner-waiting/warehouse.access': [REMINDER],
  'owner-waiting/days-pause.access': [REMINDER],
  // Overdue and configured to pause: it waits for an operator.
  'owner-waiting/quick-pause.access': [],
  'selection-access/request': [],
  'selection-deletion/request': [],
  'deletion-midway/request': ['child crm/deletion', 'child warehouse/deletion'],
  'deletion-midway/crm.deletion': ['activity callConnector'],
  'deletion-midway/warehouse.deletion': [REMINDER],
  'retention-access/request': [RETENTION],
  'retention-deletion/request': [RETENTION],
  'retention-cancelled/request': [RETENTION],
};

describe('replay of requests in flight on the previous release', function () {
  this.timeout(120_000);

  it('the fixtures are what they stand for: each request open, waiting where its step waits', () => {
    const requests = histories.filter((h) => h.workflowId.endsWith('/request'));
    assert.equal(requests.length, 11);
    assert.deepEqual(
      requests.filter(closed).map((h) => h.workflowId),
      [],
      'no request workflow has ended',
    );
    const expected = Object.fromEntries(
      Object.entries(WAITING).map(([id, waits]) => [id, [...waits].sort()]),
    );
    const found = Object.fromEntries(
      histories
        .filter((h) => h.workflowId in WAITING || !closed(h))
        .map((h) => [h.workflowId, pendingWork(h)]),
    );
    assert.deepEqual(found, expected);
  });

  it('the cancelled request was cancelled, and the closed ones built their export or deleted', () => {
    const activities = (id: string) =>
      (histories.find((h) => h.workflowId === id)?.history.events ?? []).flatMap(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
      );
    const cancelled = histories.find((h) => h.workflowId === 'retention-cancelled/request');
    assert.ok(cancelled?.history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes));
    assert.deepEqual(activities('retention-access/request'), ['buildExport']);
    assert.deepEqual(activities('retention-deletion/crm.deletion'), ['callConnector']);
  });

  it('replays every one of them against the current workflow code', async () => {
    const { replayed, failures } = await replayAgainstCurrentCode(histories);
    assert.deepEqual(failures, []);
    assert.equal(replayed, histories.length);
  });
});
