/**
 * What operators and owners may do to a request, decided from its snapshot alone. The workflow
 * uses these as Update validators, so a refused action changes nothing and the API answers at once.
 */
import { isOverdue, type PhaseOutcome, type PhaseStatus } from './integration-state';
import { ownerAnswerOutcome, refuseOwnerAnswer, type OwnerAnswer } from './owner-answer';
import {
  activePhase,
  integrationById,
  phaseStatus,
  type IntegrationAction,
  type IntegrationSnapshot,
  type RequestSnapshot,
} from './privacy-request';
import type { Phase } from './request';

export type Refusal = {
  accepted: false;
  reason: 'not_found' | 'invalid_state' | 'malformed';
  message: string;
};
export type Decision<T> = ({ accepted: true } & T) | Refusal;

const refuse = (reason: Refusal['reason'], message: string): Refusal => ({
  accepted: false,
  reason,
  message,
});

/**
 * `forward`: the integration's workflow is running and carries the action out. Otherwise the
 * request's workflow records the outcome itself (an integration stopped before its stage ran).
 */
export function decideIntegrationAction(
  snapshot: RequestSnapshot,
  integrationId: string,
  action: IntegrationAction,
  childRunning: boolean,
  now: Date,
): Decision<{ phase: Phase; forward: boolean }> {
  const integration = integrationById(snapshot, integrationId);
  if (!integration) return refuse('not_found', `integration "${integrationId}" is not part of this request`);
  const phase = activePhase(snapshot);
  const status = phase && phaseStatus(integration, phase);
  if (!phase || !status) {
    return refuse('invalid_state', `the request is not processing integrations now (step: ${snapshot.step})`);
  }
  const invalid = (why: string) => refuse('invalid_state', `cannot ${action} "${integrationId}": ${why}`);
  switch (action) {
    case 'start':
      if (status.kind === 'pending' && status.reason === 'manual_start') {
        return { accepted: true, phase, forward: childRunning };
      }
      return invalid('only a Pending integration can be started');
    case 'stop':
      if (status.kind === 'complete') return invalid('it is already complete');
      return { accepted: true, phase, forward: childRunning };
    case 'skip':
      if (status.kind === 'awaiting_owner' && isOverdue(status, now))
        return { accepted: true, phase, forward: true };
      return invalid('only a direct contact past its deadline can be skipped');
    case 'retry':
      if (status.kind === 'error') return { accepted: true, phase, forward: childRunning };
      return invalid('only an integration in Error can be retried');
  }
}

/** Said to the holder of a link from an earlier round of asking (before an operator's retry). */
export const REPLACED_LINK_MESSAGE =
  'This link was replaced by a newer one: answer through the link in the latest email about this request.';

/** `linkId`: the round of asking the owner's link belongs to; only the current round's is taken. */
export function decideOwnerReply(
  snapshot: RequestSnapshot,
  integrationId: string,
  phase: Phase,
  answer: OwnerAnswer,
  linkId?: string,
): Decision<{ outcome: PhaseOutcome }> {
  const integration = integrationById(snapshot, integrationId);
  if (!integration) return refuse('not_found', `integration "${integrationId}" is not part of this request`);
  const status = phaseStatus(integration, phase);
  if (activePhase(snapshot) !== phase || status?.kind !== 'awaiting_owner') {
    return refuse('invalid_state', 'this request no longer waits for an answer from you');
  }
  if (status.linkId !== linkId) return refuse('invalid_state', REPLACED_LINK_MESSAGE);
  const outcome = ownerAnswerOutcome(phase, answer);
  if (!outcome) return refuse('malformed', refuseOwnerAnswer(phase, answer.answer) ?? 'not an answer');
  return { accepted: true, outcome };
}

export function decideSelection(snapshot: RequestSnapshot, integrationIds: string[]): Decision<object> {
  if (snapshot.step !== 'awaiting_selection' || snapshot.selection !== null) {
    return refuse('invalid_state', `the request does not wait for a selection (step: ${snapshot.step})`);
  }
  const unknown = integrationIds.filter((id) => !integrationById(snapshot, id));
  if (unknown.length > 0) return refuse('malformed', `unknown integrations: ${unknown.join(', ')}`);
  if (new Set(integrationIds).size !== integrationIds.length)
    return refuse('malformed', 'integrations are repeated');
  return { accepted: true };
}

/**
 * Right after an accepted retry, until the integration reports again: a second click is then
 * refused instead of queueing a retry for the next failure.
 */
export function statusAfterRetry(type: IntegrationSnapshot['type']): PhaseStatus {
  return type === 'api' ? { kind: 'submitted' } : { kind: 'not_started' };
}
