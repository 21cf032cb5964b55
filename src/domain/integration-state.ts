import { DAY_MS } from './duration';
import type { IntegrationErrorMessage } from './errors';
import type { Phase } from './request';

/**
 * What an integration is doing in one phase, as the workflows record it. Labels that depend on
 * the clock ("Due in 3 days") are not stored: `describePhase` computes them when they are shown.
 */
export type PhaseStatus =
  | { kind: 'not_started' }
  | { kind: 'later_stage' }
  | { kind: 'no_extraction' }
  | { kind: 'pending'; reason: 'manual_start' | 'awaiting_selection' }
  | { kind: 'submitted'; attempt?: number; lastError?: IntegrationErrorMessage }
  | {
      kind: 'awaiting_owner';
      /** ISO 8601; the owner was asked to answer by then. */
      deadline: string;
      onNoResponse: 'skip' | 'pause';
      /** Set by the workflow's deadline timer. */
      overdue: boolean;
      /**
       * The round of asking: the id in the owner's link, new after an operator's retry. Absent
       * from rounds started before rounds had ids, whose links carry none either.
       */
      linkId?: string;
    }
  | { kind: 'error'; message: IntegrationErrorMessage; at: string }
  | { kind: 'complete'; outcome: PhaseOutcome };

export type PhaseOutcome =
  | { kind: 'records_found'; count: number }
  | { kind: 'files_uploaded'; count: number }
  | { kind: 'access_skipped' }
  | { kind: 'full_deletion' }
  | { kind: 'skipped_no_response' }
  | { kind: 'stopped' }
  | { kind: 'deletion_skipped' }
  | { kind: 'deletion_done' }
  | { kind: 'records_deleted'; count: number }
  | { kind: 'nothing_to_delete' }
  | { kind: 'data_found_not_deleted' };

/** The API's word for an integration's phase, derived from its `PhaseStatus` by `describePhase`. */
export const INTEGRATION_STATES = ['Not Started', 'Pending', 'Processing', 'Error', 'Complete'] as const;
export type IntegrationState = (typeof INTEGRATION_STATES)[number];

export interface PhaseView {
  state: IntegrationState;
  detail: string | null;
}

function counted(count: number, singular: string, plural: string, none: string): string {
  if (count === 0) return none;
  return `${count} ${count === 1 ? singular : plural}`;
}

/**
 * "Due in 3 days": whole days left, rounded up, so a deadline later today reads "Due in 1 day".
 * "Due 2 days ago": whole days passed, and at least one once the deadline is past.
 */
export function dueLabel(deadline: Date, now: Date): string {
  const remaining = deadline.getTime() - now.getTime();
  if (remaining > 0) {
    const days = Math.ceil(remaining / DAY_MS);
    return `Due in ${days} ${days === 1 ? 'day' : 'days'}`;
  }
  const days = Math.max(1, Math.floor(-remaining / DAY_MS));
  return `Due ${days} ${days === 1 ? 'day' : 'days'} ago`;
}

function noResponseLabel(phase: Phase): string {
  return phase === 'access' ? 'Access skipped (no response)' : 'Deletion skipped (no response)';
}

export function outcomeLabel(outcome: PhaseOutcome, phase: Phase): string {
  switch (outcome.kind) {
    case 'records_found':
      return counted(outcome.count, 'record found', 'records found', 'No records found');
    case 'files_uploaded':
      return counted(outcome.count, 'file uploaded', 'files uploaded', 'No files uploaded');
    case 'records_deleted':
      return counted(outcome.count, 'record deleted', 'records deleted', 'No records deleted');
    case 'access_skipped':
      return 'Access skipped';
    case 'full_deletion':
      return 'Full deletion';
    case 'skipped_no_response':
      return noResponseLabel(phase);
    case 'stopped':
      return 'Stopped processing';
    case 'deletion_skipped':
      return 'Deletion skipped';
    case 'deletion_done':
      return 'Deletion done';
    case 'nothing_to_delete':
      return 'Nothing to delete';
    case 'data_found_not_deleted':
      return 'Data found, not deleted';
  }
}

/** The exact state and sub-label of the seed tables. */
export function describePhase(status: PhaseStatus, phase: Phase, now: Date): PhaseView {
  switch (status.kind) {
    case 'not_started':
      return { state: 'Not Started', detail: null };
    case 'later_stage':
      return { state: 'Not Started', detail: 'Will process in a workflow' };
    case 'no_extraction':
      return { state: 'Not Started', detail: 'No extraction' };
    case 'pending':
      return { state: 'Pending', detail: null };
    case 'submitted':
      return { state: 'Processing', detail: 'Request submitted' };
    case 'awaiting_owner': {
      if (isOverdue(status, now) && status.onNoResponse === 'skip') {
        return { state: 'Processing', detail: noResponseLabel(phase) };
      }
      return { state: 'Processing', detail: dueLabel(new Date(status.deadline), now) };
    }
    case 'error':
      return { state: 'Error', detail: status.message };
    case 'complete':
      return { state: 'Complete', detail: outcomeLabel(status.outcome, phase) };
  }
}

export function isComplete(status: PhaseStatus): status is { kind: 'complete'; outcome: PhaseOutcome } {
  return status.kind === 'complete';
}

/**
 * A phase may close once each of its integrations is complete, or is a direct contact past its
 * deadline configured to skip: that one is still waiting for a late answer, but does not hold
 * the request up.
 */
export function isSettled(status: PhaseStatus): boolean {
  return (
    isComplete(status) ||
    (status.kind === 'awaiting_owner' && status.overdue && status.onNoResponse === 'skip')
  );
}

export function isOverdue(status: Extract<PhaseStatus, { kind: 'awaiting_owner' }>, now: Date): boolean {
  return status.overdue || now.getTime() >= new Date(status.deadline).getTime();
}

/**
 * A direct contact past its deadline, configured to pause: the request waits for a person. Read
 * by the clock, like "Due 2 days ago", so the two never disagree while the timer is being handled.
 */
export function isPausing(status: PhaseStatus, now: Date): boolean {
  return status.kind === 'awaiting_owner' && status.onNoResponse === 'pause' && isOverdue(status, now);
}

/** How much data an access outcome reports; `undefined` when the phase did not look. */
export function dataFound(status: PhaseStatus): number | undefined {
  if (status.kind !== 'complete') return undefined;
  const { outcome } = status;
  if (outcome.kind === 'records_found' || outcome.kind === 'files_uploaded') return outcome.count;
  return undefined;
}
