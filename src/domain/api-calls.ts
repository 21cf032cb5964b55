/**
 * An API integration's calls in one phase, as its workflow makes them: which attempt runs, the
 * job the service accepted, the streak of transient failures the retry policy bounds, and what
 * each answer or failure means for what the integration shows. Pure: the workflow passes the time in.
 */
import type { IntegrationErrorMessage } from './errors';
import type { ApiIntegrationConfig } from './integration-config';
import type { PhaseOutcome, PhaseStatus } from './integration-state';
import type { Phase } from './request';
import { nextAttemptDelay, retryPolicyOf, type RetryPolicy } from './retry';

/**
 * Where a connector call left things: done, with a count (and, for access, where the records
 * are; null for a deletion the service did not count), or a job the service works on, to be polled.
 */
export type CallAnswer =
  | { done: true; count: number | null; ref?: string }
  | { done: false; job: string; pollEveryMs: number; giveUpAfterMs: number };

export interface CallFailure {
  message: IntegrationErrorMessage;
  retryable: boolean;
  retryAfterMs?: number;
}

export const SUBMITTED: PhaseStatus = { kind: 'submitted' };

/** What follows an answer that is not the end: polled again after `pollInMs`, or the job is given up. */
export type Pending = { recovered: boolean } & ({ pollInMs: number } | { gaveUp: CallFailure });

/** What follows a failure: the integration shows `status`, and tries again after `retryInMs` if set. */
export interface AfterFailure {
  status: PhaseStatus;
  retryInMs?: number;
  /** A disconnected integration's operators are told. */
  tellOperators: boolean;
}

/** What a finished call found (access) or did (deletion). */
export function outcomeOfCall(
  phase: Phase,
  deletion: ApiIntegrationConfig['deletion'],
  { count }: { count: number | null },
): PhaseOutcome {
  if (phase === 'access') return { kind: 'records_found', count: count ?? 0 };
  if (deletion === 'full' || count === null) return { kind: 'deletion_done' };
  return { kind: 'records_deleted', count };
}

export class ApiCalls {
  private readonly policy: RetryPolicy;
  /** Every call, numbered for the call log. */
  private attempt = 0;
  /** A job the service accepted: polled, never submitted again (a new worker picks it up from here). */
  private job: { id: string; since: number } | undefined;
  /** Transient failures in a row; a call that succeeds ends the streak. */
  private streak: { failures: number; since: number };

  constructor(retry: ApiIntegrationConfig['retry'], nowMs: number) {
    this.policy = retryPolicyOf(retry);
    this.streak = { failures: 0, since: nowMs };
  }

  /** The next call: its number, and the job to poll if the service accepted one. */
  next(): { attempt: number; job?: string } {
    this.attempt += 1;
    return this.job ? { attempt: this.attempt, job: this.job.id } : { attempt: this.attempt };
  }

  /**
   * The service answered, not yet done: the streak of failures ends (`recovered`: the integration
   * shows it submitted again); the job is polled until the service's own limit, then given up on.
   * A job the service lost and Lethe submitted again is waited for from now.
   */
  pending(answer: Extract<CallAnswer, { done: false }>, nowMs: number): Pending {
    const recovered = this.streak.failures > 0;
    this.streak = { failures: 0, since: nowMs };
    if (this.job?.id !== answer.job) this.job = { id: answer.job, since: nowMs };
    if (nowMs - this.job.since < answer.giveUpAfterMs) return { recovered, pollInMs: answer.pollEveryMs };
    // An operator may retry (polling it again, from now) or stop.
    this.job.since = nowMs;
    return { recovered, gaveUp: { message: 'Request timeout', retryable: false } };
  }

  /** A failure: tried again within the retry policy (showing which attempt is next), else shown as the error. */
  failed(failure: CallFailure, nowMs: number, at: string): AfterFailure {
    this.streak.failures += 1;
    const delay = failure.retryable
      ? nextAttemptDelay(this.policy, this.streak.failures, nowMs - this.streak.since, failure.retryAfterMs)
      : undefined;
    if (delay !== undefined) {
      const status: PhaseStatus = {
        kind: 'submitted',
        attempt: this.streak.failures + 1,
        lastError: failure.message,
      };
      return { status, retryInMs: delay, tellOperators: false };
    }
    return {
      status: { kind: 'error', message: failure.message, at },
      tellOperators: failure.message === 'Disconnected integration',
    };
  }

  /** An operator retried the error: a new streak, and the integration shows it submitted. */
  retried(nowMs: number): PhaseStatus {
    this.streak = { failures: 0, since: nowMs };
    return SUBMITTED;
  }
}
