import { parseDuration } from './duration';

/** How an API integration retries transient failures (408, 429, 502, 503, 504, refused or reset connections). */
export interface RetryPolicy {
  initialIntervalMs: number;
  maxIntervalMs: number;
  maxAttempts: number;
  /** From the first attempt: past this, the integration shows its error instead of trying again. */
  maxElapsedMs: number;
}

export function retryPolicyOf(retry: {
  initial_interval: string;
  max_interval: string;
  max_attempts: number;
  max_elapsed: string;
}): RetryPolicy {
  return {
    initialIntervalMs: parseDuration(retry.initial_interval),
    maxIntervalMs: parseDuration(retry.max_interval),
    maxAttempts: retry.max_attempts,
    maxElapsedMs: parseDuration(retry.max_elapsed),
  };
}

/**
 * The wait before attempt `failedAttempt + 1`, or undefined when the failure is final. Exponential
 * backoff from the initial interval, capped; a service's Retry-After wins over the backoff.
 */
export function nextAttemptDelay(
  policy: RetryPolicy,
  failedAttempt: number,
  elapsedMs: number,
  retryAfterMs?: number,
): number | undefined {
  if (failedAttempt >= policy.maxAttempts) return undefined;
  const backoff = Math.min(policy.initialIntervalMs * 2 ** (failedAttempt - 1), policy.maxIntervalMs);
  const delay = retryAfterMs ?? backoff;
  if (elapsedMs + delay > policy.maxElapsedMs) return undefined;
  return delay;
}
