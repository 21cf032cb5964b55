/**
 * Every message Lethe's workflows accept or answer, defined once: the workflows set handlers for
 * these, the API sends them. Safe to import outside workflow code.
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RequestSnapshot } from '../domain/privacy-request';
import type { Phase } from '../domain/request';
import type {
  IntegrationActionInput,
  IntegrationCommand,
  OwnerReplyInput,
  PhaseReport,
} from '../domain/request-lifecycle';

export type { IntegrationActionInput, IntegrationCommand, OwnerReplyInput, PhaseReport };

export const TASK_QUEUE = 'lethe';

/** The schedule every worker makes sure exists: it runs `RetentionSweepWorkflow`. */
export const RETENTION_SWEEP_SCHEDULE = 'lethe-retention-sweep';

/** The whole request in one query, so the API never asks integration by integration. */
export const getRequestQuery = defineQuery<RequestSnapshot>('getRequest');

/**
 * The request's record (the snapshot without the subject), published in the request workflow's
 * memo as it changes and when it closes: the API reads it with a describe, which the server
 * answers alone (no round trip to a worker, and readable while workers restart, or once the
 * workflow has completed).
 */
export const RECORD_MEMO = 'record';

/**
 * Where requests started before the record published their whole snapshot, whenever its JSON
 * changed; those started before either answer the query only.
 */
export const REQUEST_MEMO = 'request';

/** What replaces it once the request's retention period is over: its proof record, without personal data. */
export const PROOF_MEMO = 'proof';

export interface SelectionInput {
  integrations: string[];
}
/** Update, not signal: the validator refuses a selection at the wrong step, and the caller hears why. */
export const selectionUpdate = defineUpdate<RequestSnapshot, [SelectionInput]>('selection');

export const integrationActionUpdate = defineUpdate<RequestSnapshot, [IntegrationActionInput]>(
  'integrationAction',
);

export const ownerReplyUpdate = defineUpdate<RequestSnapshot, [OwnerReplyInput]>('ownerReply');

/** From an integration's workflow to its request's: the integration's state changed. */
export const phaseReportSignal = defineSignal<[PhaseReport]>('phaseReport');

/** From a request's workflow to one integration's: what operators and the owner decided. */
export const integrationCommandSignal = defineSignal<[IntegrationCommand]>('integrationCommand');

/** Update validators refuse with these failure types; the API maps them to HTTP errors. */
export const REFUSAL_TYPES = {
  not_found: 'IntegrationNotFound',
  invalid_state: 'InvalidState',
  malformed: 'MalformedParameter',
} as const;

/** Search attributes make requests findable in the Web UI and the list route. No personal data here. */
export const requestTypeAttribute = defineSearchAttributeKey('LetheRequestType', 'KEYWORD');
export const requestStateAttribute = defineSearchAttributeKey('LetheRequestState', 'KEYWORD');
export const requestStatusAttribute = defineSearchAttributeKey('LetheRequestStatus', 'KEYWORD');
/**
 * The status of a request that slept out its retention period and purged itself (those started
 * before requests completed as they closed): the list and the counts leave it out.
 */
export const PURGED_STATUS = 'purged';
export const SEARCH_ATTRIBUTES = [requestTypeAttribute, requestStateAttribute, requestStatusAttribute];

/** `req_…/crm/access`: readable in the Web UI, and derivable from what the parent knows. */
export function integrationWorkflowId(requestId: string, integrationId: string, phase: Phase): string {
  return `${requestId}/${integrationId}/${phase}`;
}

/**
 * The task queue of a rate-limited integration's connector calls: a worker serves it with the
 * integration's rate, which Temporal enforces across every worker and every request.
 */
export function connectorTaskQueue(integrationId: string): string {
  return `${TASK_QUEUE}-connector-${integrationId}`;
}
