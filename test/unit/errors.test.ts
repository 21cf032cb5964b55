import assert from 'node:assert/strict';
import {
  classifyFailure,
  parseRetryAfter,
  type ClassifiedFailure,
  type FailureCause,
} from '../../src/domain';

/** Contract section 3, row by row. */
function expectedForStatus(status: number): Omit<ClassifiedFailure, 'retryAfterMs'> {
  if (status === 400 || status === 422) return { message: 'Request error', retryable: false };
  if (status === 401) return { message: 'Authorization error', retryable: false };
  if (status === 402) return { message: 'Payment required', retryable: false };
  if (status === 403) return { message: 'Insufficient permissions', retryable: false };
  if (status === 404) return { message: 'Unprocessable request', retryable: false };
  if (status === 408) return { message: 'Request timeout', retryable: true };
  if (status === 429) return { message: 'Rate limit error', retryable: true };
  if ([502, 503, 504].includes(status)) return { message: 'Internal Server Error', retryable: true };
  if (status >= 500) return { message: 'Internal Server Error', retryable: false };
  return { message: 'Lethe error', retryable: false };
}

describe('classifyFailure: the integration error taxonomy', () => {
  for (let status = 400; status <= 599; status++) {
    it(`HTTP ${status}`, () => {
      assert.deepEqual(classifyFailure({ kind: 'http', status }), expectedForStatus(status));
    });
  }

  const others: [string, FailureCause, ClassifiedFailure][] = [
    [
      'connection refused',
      { kind: 'network', code: 'ECONNREFUSED' },
      { message: 'Internal Server Error', retryable: true },
    ],
    [
      'connection reset',
      { kind: 'network', code: 'ECONNRESET' },
      { message: 'Internal Server Error', retryable: true },
    ],
    [
      'socket timeout',
      { kind: 'network', code: 'ETIMEDOUT' },
      { message: 'Request timeout', retryable: true },
    ],
    ['client-side timeout', { kind: 'client_timeout' }, { message: 'Request timeout', retryable: true }],
    ['DNS failure', { kind: 'network', code: 'ENOTFOUND' }, { message: 'Lethe error', retryable: false }],
    ['disconnected', { kind: 'disconnected' }, { message: 'Disconnected integration', retryable: false }],
    [
      'the subject lacks the identifier',
      { kind: 'missing_identifier' },
      { message: 'Request error', retryable: false },
    ],
    [
      'a value that cannot be a path segment',
      { kind: 'unusable_value' },
      { message: 'Request error', retryable: false },
    ],
    ['anything else', { kind: 'unknown' }, { message: 'Lethe error', retryable: false }],
    ['HTTP 302 (not followed)', { kind: 'http', status: 302 }, { message: 'Lethe error', retryable: false }],
    [
      '429 with Retry-After seconds',
      { kind: 'http', status: 429, retryAfter: '2' },
      { message: 'Rate limit error', retryable: true, retryAfterMs: 2000 },
    ],
  ];
  for (const [name, cause, expected] of others) {
    it(name, () => assert.deepEqual(classifyFailure(cause), expected));
  }
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  const rows: [string | undefined, number | undefined][] = [
    ['0', 0],
    ['2', 2000],
    [' 120 ', 120_000],
    ['Mon, 23 Nov 2026 12:00:30 GMT', 30_000],
    ['Mon, 23 Nov 2026 11:00:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [value, expected] of rows) {
    it(`${JSON.stringify(value)} → ${expected}`, () => assert.equal(parseRetryAfter(value, now), expected));
  }
});
