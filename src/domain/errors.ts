/**
 * The integration error taxonomy (contract section 3): what an operator reads when an integration
 * fails, and whether Lethe tries again by itself.
 */
export const INTEGRATION_ERROR_MESSAGES = [
  'Internal Server Error',
  'Disconnected integration',
  'Request error',
  'Authorization error',
  'Payment required',
  'Insufficient permissions',
  'Unprocessable request',
  'Request timeout',
  'Rate limit error',
  'Lethe error',
] as const;
export type IntegrationErrorMessage = (typeof INTEGRATION_ERROR_MESSAGES)[number];

export type FailureCause =
  | { kind: 'http'; status: number; retryAfter?: string }
  | { kind: 'network'; code: string }
  | { kind: 'client_timeout' }
  | { kind: 'disconnected' }
  /** The request lacks the identifier this integration looks people up by. */
  | { kind: 'missing_identifier' }
  /** A value Lethe will not send as it is: `.` or `..` as a path segment. */
  | { kind: 'unusable_value' }
  /** A database's refusal (the sql connector), by what it means rather than by its driver's code. */
  | { kind: 'database'; reason: DatabaseFailureReason }
  | { kind: 'unknown' };

/**
 * unreachable: connection refused; lost: the connection broke mid-way; contention: a deadlock or a
 * serialization failure; timeout: a statement or lock wait that ran out of time; authentication:
 * a wrong user or password; permission: a privilege the role lacks; unknown_object: a table,
 * column or database that does not exist; rejected: a statement the data or its constraints
 * refuse (a foreign key, a value too long); other: anything else.
 */
export const DATABASE_FAILURE_REASONS = [
  'unreachable',
  'lost',
  'contention',
  'timeout',
  'authentication',
  'permission',
  'unknown_object',
  'rejected',
  'other',
] as const;
export type DatabaseFailureReason = (typeof DATABASE_FAILURE_REASONS)[number];

const DATABASE_FAILURES: Record<DatabaseFailureReason, ClassifiedFailure> = {
  unreachable: { message: 'Internal Server Error', retryable: true },
  lost: { message: 'Internal Server Error', retryable: true },
  contention: { message: 'Internal Server Error', retryable: true },
  timeout: { message: 'Request timeout', retryable: true },
  authentication: { message: 'Authorization error', retryable: false },
  permission: { message: 'Insufficient permissions', retryable: false },
  unknown_object: { message: 'Request error', retryable: false },
  rejected: { message: 'Request error', retryable: false },
  other: { message: 'Lethe error', retryable: false },
};

export interface ClassifiedFailure {
  message: IntegrationErrorMessage;
  retryable: boolean;
  /** Set when the service said when to come back (a 429's Retry-After). */
  retryAfterMs?: number;
}

const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED', 'ESOCKETTIMEDOUT']);

const HTTP_MESSAGES: Record<number, IntegrationErrorMessage> = {
  400: 'Request error',
  401: 'Authorization error',
  402: 'Payment required',
  403: 'Insufficient permissions',
  404: 'Unprocessable request',
  408: 'Request timeout',
  422: 'Request error',
  429: 'Rate limit error',
};

const RETRYABLE_HTTP = new Set([408, 429, 502, 503, 504]);

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

export function classifyFailure(cause: FailureCause, now: Date = new Date(0)): ClassifiedFailure {
  switch (cause.kind) {
    case 'disconnected':
      return { message: 'Disconnected integration', retryable: false };
    case 'client_timeout':
      return { message: 'Request timeout', retryable: true };
    case 'missing_identifier':
    case 'unusable_value':
      return { message: 'Request error', retryable: false };
    case 'network':
      if (CONNECTION_FAILURES.has(cause.code)) return { message: 'Internal Server Error', retryable: true };
      if (TIMEOUT_CODES.has(cause.code)) return { message: 'Request timeout', retryable: true };
      return { message: 'Lethe error', retryable: false };
    case 'http':
      return classifyHttpStatus(cause.status, cause.retryAfter, now);
    case 'database':
      return { ...DATABASE_FAILURES[cause.reason] };
    case 'unknown':
      return { message: 'Lethe error', retryable: false };
  }
}

function classifyHttpStatus(status: number, retryAfter: string | undefined, now: Date): ClassifiedFailure {
  const retryable = RETRYABLE_HTTP.has(status);
  const known = HTTP_MESSAGES[status];
  const message: IntegrationErrorMessage =
    known ?? (status >= 500 && status <= 599 ? 'Internal Server Error' : 'Lethe error');
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return retryAfterMs === undefined ? { message, retryable } : { message, retryable, retryAfterMs };
  }
  return { message, retryable };
}

export function isIntegrationErrorMessage(text: string): text is IntegrationErrorMessage {
  return (INTEGRATION_ERROR_MESSAGES as readonly string[]).includes(text);
}
