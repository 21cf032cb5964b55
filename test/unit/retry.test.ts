import assert from 'node:assert/strict';
import { nextAttemptDelay, retryPolicyOf } from '../../src/domain';

describe('nextAttemptDelay: backoff, Retry-After and the caps', () => {
  const policy = retryPolicyOf({
    initial_interval: '1s',
    max_interval: '10s',
    max_attempts: 6,
    max_elapsed: '1m',
  });
  const rows: [string, number, number, number | undefined, number | undefined][] = [
    ['after the first failure', 1, 0, undefined, 1_000],
    ['doubling', 2, 1_000, undefined, 2_000],
    ['doubling again', 3, 3_000, undefined, 4_000],
    ['capped by max_interval', 5, 15_000, undefined, 10_000],
    ['Retry-After wins over the backoff', 1, 0, 7_000, 7_000],
    ['Retry-After may exceed max_interval', 2, 0, 30_000, 30_000],
    ['max_attempts reached', 6, 20_000, undefined, undefined],
    ['max_elapsed would be passed', 4, 55_000, undefined, undefined],
    ['max_elapsed would be passed by a Retry-After', 1, 10_000, 60_000, undefined],
  ];
  for (const [name, failedAttempt, elapsed, retryAfter, expected] of rows) {
    it(`${name}: ${expected ?? 'no more attempts'}`, () => {
      assert.equal(nextAttemptDelay(policy, failedAttempt, elapsed, retryAfter), expected);
    });
  }
});
