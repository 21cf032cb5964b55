/** The activities' inputs and results: what crosses from workflow code to I/O and back. */
import type { CallAnswer } from '../domain/api-calls';
import type {
  ApiIntegrationConfig,
  DirectContactIntegrationConfig,
  Phase,
  RequestType,
  Subject,
} from '../domain';

/** One attempt of a connector call. */
export interface ConnectorCallInput {
  requestId: string;
  phase: Phase;
  integration: ApiIntegrationConfig;
  subject: Subject;
  /** 1 for the first try; the call log records it. */
  attempt: number;
  /** Deletion phase: what the access phase found; without it the connector looks again. */
  accessRef?: string;
}

/**
 * Where a connector call left things: done, with a count (and, for access, where the records
 * are; null for a deletion the service did not count), or a job the service works on, to be polled.
 */
export type ConnectorStep = CallAnswer;

export interface OwnerRequestInput {
  requestId: string;
  requestType: RequestType;
  phase: Phase;
  integration: DirectContactIntegrationConfig;
  subject: Subject;
  deadline: string;
  /** The round of asking, which the link carries: the same in the round's first email and its reminder. */
  linkId?: string;
  /** The second email, shortly before the deadline. */
  reminder?: boolean;
}

/**
 * What a request's run finds under an integration's workflow id it did not start (a reset request):
 * the result of a run that completed, or a run still going (the earlier request run's), ended so
 * that a new one takes over, or neither.
 */
export type IntegrationTakeover<Result> =
  { kind: 'completed'; result: Result } | { kind: 'terminated' } | { kind: 'none' };

/** Thrown by activities as an ApplicationFailure of this type; its message is the contract's. */
export const INTEGRATION_FAILURE_TYPE = 'IntegrationFailure';

/** The failure's details: whether the taxonomy calls it transient, and when the service said to come back. */
export interface IntegrationFailureDetails {
  retryable: boolean;
  retryAfterMs?: number;
}

/** Why operators are told about an integration. */
export interface OperatorNoticeInput {
  to: string;
  requestId: string;
  integrationId: string;
  integrationName: string;
  phase: Phase;
  /** Disconnected: it cannot be reached. Paused: its owner did not answer, and the request waits. */
  reason: 'disconnected' | 'paused';
}
