import assert from 'node:assert/strict';
import { ApiCalls, outcomeOfCall, type CallFailure, type PhaseOutcome } from '../../src/domain';

const RETRY = { initial_interval: '1s', max_interval: '4s', max_attempts: 3, max_elapsed: '1m' };
const AT = '2026-12-02T10:00:00.000Z';

describe('an API integration’s calls: what a finished call found or did', () => {
  const rows: ['access' | 'deletion', 'records' | 'full', number | null, PhaseOutcome][] = [
    ['access', 'records', 3, { kind: 'records_found', count: 3 }],
    ['access', 'records', null, { kind: 'records_found', count: 0 }],
    ['deletion', 'records', 2, { kind: 'records_deleted', count: 2 }],
    ['deletion', 'records', null, { kind: 'deletion_done' }],
    ['deletion', 'full', 5, { kind: 'deletion_done' }],
  ];
  for (const [phase, deletion, count, outcome] of rows) {
    it(`${phase}, deletion ${deletion}, count ${count}: ${outcome.kind}`, () =>
      assert.deepEqual(outcomeOfCall(phase, deletion, { count }), outcome));
  }
});

describe('an API integration’s calls: failures, retries and jobs', () => {
  const transient: CallFailure = { message: 'Internal Server Error', retryable: true };

  it('numbers every call, and polls the job the service accepted', () => {
    const calls = new ApiCalls(RETRY, 0);
    assert.deepEqual(calls.next(), { attempt: 1 });
    assert.deepEqual(calls.pending({ done: false, job: 'j1', pollEveryMs: 500, giveUpAfterMs: 10_000 }, 0), {
      recovered: false,
      pollInMs: 500,
    });
    assert.deepEqual(calls.next(), { attempt: 2, job: 'j1' });
  });

  // [failures in a row, ms since the streak began, the delay before the next try (undefined: shown as error)]
  const rows: [number, number, number | undefined][] = [
    [1, 0, 1000],
    [2, 1000, 2000],
    [3, 3000, undefined],
  ];
  for (const [failures, elapsed, delay] of rows) {
    it(`transient failure ${failures}: ${delay === undefined ? 'shown as the error' : `tried again in ${delay} ms`}`, () => {
      const calls = new ApiCalls(RETRY, 0);
      let after = calls.failed(transient, 0, AT);
      for (let i = 1; i < failures; i += 1) after = calls.failed(transient, elapsed, AT);
      assert.equal(after.retryInMs, delay);
      assert.deepEqual(
        after.status,
        delay === undefined
          ? { kind: 'error', message: 'Internal Server Error', at: AT }
          : { kind: 'submitted', attempt: failures + 1, lastError: 'Internal Server Error' },
      );
    });
  }

  it('a Retry-After wins over the backoff; the elapsed bound ends the streak', () => {
    assert.equal(new ApiCalls(RETRY, 0).failed({ ...transient, retryAfterMs: 7000 }, 0, AT).retryInMs, 7000);
    assert.equal(new ApiCalls(RETRY, 0).failed(transient, 59_500, AT).retryInMs, undefined);
  });

  it('a failure that is not retryable is the error at once; a disconnected one tells the operators', () => {
    const calls = new ApiCalls(RETRY, 0);
    assert.deepEqual(calls.failed({ message: 'Request error', retryable: false }, 0, AT), {
      status: { kind: 'error', message: 'Request error', at: AT },
      tellOperators: false,
    });
    assert.equal(
      calls.failed({ message: 'Disconnected integration', retryable: false }, 0, AT).tellOperators,
      true,
    );
  });

  it('an answer after failures ends the streak, and shows it submitted again', () => {
    const calls = new ApiCalls(RETRY, 0);
    calls.failed(transient, 0, AT);
    const job = { done: false as const, job: 'j1', pollEveryMs: 500, giveUpAfterMs: 10_000 };
    assert.equal(calls.pending(job, 1000).recovered, true);
    assert.equal(calls.pending(job, 1500).recovered, false);
    assert.equal(
      calls.failed(transient, 1500, AT).retryInMs,
      1000,
      'a new streak starts from the first interval',
    );
  });

  it('a job the service never finishes is given up on, then polled again from now after a retry', () => {
    const calls = new ApiCalls(RETRY, 0);
    const job = { done: false as const, job: 'j1', pollEveryMs: 500, giveUpAfterMs: 10_000 };
    calls.pending(job, 0);
    assert.deepEqual(calls.pending(job, 10_000), {
      recovered: false,
      gaveUp: { message: 'Request timeout', retryable: false },
    });
    assert.deepEqual(calls.retried(10_000), { kind: 'submitted' });
    assert.deepEqual(calls.pending(job, 15_000), { recovered: false, pollInMs: 500 });
  });
});
