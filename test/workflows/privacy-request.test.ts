import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type {
  ConnectorCallInput,
  OperatorNoticeInput,
  OwnerRequestInput,
} from '../../src/activities/contracts';
import type { ExportInput } from '../../src/activities/export-package';
import type { RequestRecord } from '../../src/domain';
import {
  integrationActionUpdate,
  ownerReplyUpdate,
  REFUSAL_TYPES,
  selectionUpdate,
} from '../../src/workflows/definitions';
import { eventually } from '../support/http';
import { phaseOf } from '../support/lethe';
import {
  integrationConfig,
  integrationFailure,
  recordOf,
  withWorker,
  workflowEnvironment,
  type CallRecord,
} from '../support/workflow-harness';

/**
 * The orchestration of a request, on a real (time-skipping) Temporal server with stubbed
 * activities: which integrations are called when, how failures are retried, what operators' and
 * owners' messages change, and how a request ends. What needs real services stays in test/e2e.
 */
describe('PrivacyRequestWorkflow with stubbed activities', function () {
  this.timeout(60_000);
  const configs = (...ids: string[]) => ids.map(integrationConfig);
  const operator = { actor: 'key-fingerprint', by: 'ops@example.com' };

  it('automatic access: stage by stage, the package built from what was found; closed, it ends with a record without the subject', async () => {
    const env = await workflowEnvironment();
    const steps: string[] = [];
    const exports: ExportInput[] = [];
    const purged: string[] = [];
    await withWorker(
      {
        callConnector: async (input: ConnectorCallInput) => {
          steps.push(`${input.integration.id} called`);
          await new Promise((resolve) => setTimeout(resolve, 200));
          steps.push(`${input.integration.id} done`);
          return { done: true, count: 2, ref: `${input.requestId}/${input.integration.id}.jsonl` };
        },
        buildExport: (input: ExportInput) => {
          exports.push(input);
          return Promise.resolve(`${input.request.id}/export.zip`);
        },
        purgeRequestData: (requestId: string) => {
          purged.push(requestId);
          return Promise.resolve();
        },
      },
      async (start) => {
        const request = await start({ autoProcess: true, integrations: configs('crm-stage2', 'crm') });
        const closed = await request.until((v) => v.closed, 'closed');
        assert.deepEqual(steps, ['crm called', 'crm done', 'crm-stage2 called', 'crm-stage2 done']);
        assert.equal(closed.state, 'Data accessed');
        assert.equal(closed.closed_reason, null);
        for (const id of ['crm', 'crm-stage2'])
          assert.deepEqual(phaseOf(closed, id, 'access'), { state: 'Complete', detail: '2 records found' });
        assert.deepEqual(
          exports.map((e) => e.recordRefs),
          [{ crm: `${closed.id}/crm.jsonl`, 'crm-stage2': `${closed.id}/crm-stage2.jsonl` }],
        );
        assert.deepEqual(purged, [], 'kept for its retention period');

        // Closed, the workflow completes with its record; the retention sweep purges it later.
        const record = (await request.handle.result()) as RequestRecord;
        assert.equal(record.id, closed.id);
        assert.equal(record.step, 'closed');
        assert.ok(
          !JSON.stringify(record).includes('jane.doe'),
          'the record it ends with holds no identifier',
        );
        await env.sleep('30 days');
        assert.deepEqual(purged, [], 'the workflow purges nothing itself (test/e2e/retention.test.ts)');
      },
    );
  });

  it('a transient failure is tried again up to the integration’s attempts, then shown; an operator’s retry starts over', async () => {
    const calls: CallRecord[] = [];
    await withWorker(
      {
        callConnector: (input: ConnectorCallInput) => {
          calls.push(recordOf(input));
          return calls.length <= 4
            ? Promise.reject(integrationFailure('Internal Server Error', true))
            : Promise.resolve({ done: true, count: 1, ref: 'records' });
        },
      },
      async (start) => {
        const request = await start({ integrations: configs('crm') });
        await request.until((v) => phaseOf(v, 'crm', 'access')?.state === 'Error', 'Error');
        const failed = await request.view();
        assert.deepEqual(phaseOf(failed, 'crm', 'access'), {
          state: 'Error',
          detail: 'Internal Server Error',
        });
        assert.deepEqual(
          calls.map((c) => c.attempt),
          [1, 2, 3, 4],
          'the test CRM tries 4 times',
        );

        await request.handle.executeUpdate(integrationActionUpdate, {
          args: [{ integrationId: 'crm', action: 'retry', ...operator }],
        });
        const done = await request.until((v) => v.state === 'Data accessed', 'Data accessed');
        assert.deepEqual(phaseOf(done, 'crm', 'access'), { state: 'Complete', detail: '1 record found' });
        assert.equal(calls.length, 5);
        assert.deepEqual(
          done.integrations[0]?.history.map((h) => [h.action, h.by]),
          [['retry', 'ops@example.com']],
        );
      },
    );
  });

  it('a final failure is not tried again; an operator’s stop completes it, and the request goes on to its selection', async () => {
    const calls: CallRecord[] = [];
    await withWorker(
      {
        callConnector: (input: ConnectorCallInput) => {
          calls.push(recordOf(input));
          return Promise.reject(integrationFailure('Authorization error', false));
        },
      },
      async (start) => {
        const request = await start({ integrations: configs('crm', 'crm-manual') });
        await request.until(
          (v) => phaseOf(v, 'crm', 'access')?.detail === 'Authorization error',
          'Error / Authorization error',
        );
        assert.deepEqual(phaseOf(await request.view(), 'crm-manual', 'access'), {
          state: 'Pending',
          detail: null,
        });
        assert.equal(calls.length, 1, 'called once');

        for (const integrationId of ['crm', 'crm-manual']) {
          await request.handle.executeUpdate(integrationActionUpdate, {
            args: [{ integrationId, action: 'stop', ...operator }],
          });
        }
        const accessed = await request.until((v) => v.state === 'Data accessed', 'Data accessed');
        for (const id of ['crm', 'crm-manual'])
          assert.deepEqual(phaseOf(accessed, id, 'access'), {
            state: 'Complete',
            detail: 'Stopped processing',
          });
        assert.equal(calls.length, 1, 'the manual integration was never started');
        assert.equal(accessed.closed, false, 'it waits for its selection');
      },
    );
  });

  it('a service’s Retry-After wins over the backoff: the next attempt waits that long, showing attempt 2 meanwhile', async () => {
    const env = await workflowEnvironment();
    const calls: CallRecord[] = [];
    await withWorker(
      {
        callConnector: (input: ConnectorCallInput) => {
          calls.push(recordOf(input));
          return calls.length === 1
            ? Promise.reject(integrationFailure('Rate limit error', true, 3_600_000))
            : Promise.resolve({ done: true, count: 0 });
        },
      },
      async (start) => {
        const request = await start({ integrations: configs('crm') });
        const waiting = await request.until(
          (v) => v.integrations[0]?.access.attempt === 2,
          'attempt 2 shown',
        );
        assert.equal(waiting.integrations[0]?.access.last_error, 'Rate limit error');
        assert.deepEqual(phaseOf(waiting, 'crm', 'access'), {
          state: 'Processing',
          detail: 'Request submitted',
        });
        await env.sleep('59 minutes');
        assert.equal(calls.length, 1, 'not before the hour is over');
        await env.sleep('2 minutes');
        const done = await request.until((v) => v.state === 'Data accessed', 'Data accessed');
        assert.deepEqual(phaseOf(done, 'crm', 'access'), { state: 'Complete', detail: 'No records found' });
        assert.deepEqual(
          calls.map((c) => c.attempt),
          [1, 2],
        );
      },
    );
  });

  it('an owner is asked once, reminded before the deadline, and their answer completes the integration', async () => {
    const env = await workflowEnvironment();
    const asked: OwnerRequestInput[] = [];
    await withWorker(
      {
        sendOwnerRequest: (input: OwnerRequestInput) => {
          asked.push(input);
          return Promise.resolve();
        },
      },
      async (start) => {
        const request = await start({ integrations: configs('days-pause') });
        await request.until(
          (v) => phaseOf(v, 'days-pause', 'access')?.detail === 'Due in 14 days',
          'Due in 14 days',
        );
        assert.deepEqual(
          asked.map((a) => a.reminder ?? false),
          [false],
        );
        // Reminded 3 days before the deadline, with the same link.
        await env.sleep('11 days');
        await request.until(
          (v) => phaseOf(v, 'days-pause', 'access')?.detail === 'Due in 3 days',
          'Due in 3 days',
        );
        await eventually(
          async () => asked.length,
          (n) => n === 2,
          { what: 'the reminder' },
        );
        assert.deepEqual(
          asked.map((a) => [a.reminder ?? false, a.linkId]),
          [
            [false, asked[0]?.linkId],
            [true, asked[0]?.linkId],
          ],
        );

        await request.handle.executeUpdate(ownerReplyUpdate, {
          args: [
            {
              integrationId: 'days-pause',
              phase: 'access',
              answer: { answer: 'no_data' },
              linkId: asked[0]?.linkId,
            },
          ],
        });
        const answered = await request.until((v) => v.state === 'Data accessed', 'Data accessed');
        assert.deepEqual(phaseOf(answered, 'days-pause', 'access'), {
          state: 'Complete',
          detail: 'No files uploaded',
        });
      },
    );
  });

  it('an owner who does not answer in time: skipped where configured so, paused (operators told) where not', async () => {
    const env = await workflowEnvironment();
    const notices: OperatorNoticeInput[] = [];
    await withWorker(
      {
        notifyOperators: (input: OperatorNoticeInput) => {
          notices.push(input);
          return Promise.resolve();
        },
      },
      async (start) => {
        const request = await start({
          integrations: configs('quick-skip', 'quick-pause'),
          operatorsEmail: 'privacy-ops@example.com',
        });
        await request.until((v) => phaseOf(v, 'quick-pause', 'access')?.detail === 'Due in 1 day', 'asked');
        await env.sleep('3 seconds');
        const overdue = await request.until((v) => v.paused, 'paused');
        // Open for a late answer while its stage waits for the other owner.
        assert.deepEqual(phaseOf(overdue, 'quick-skip', 'access'), {
          state: 'Processing',
          detail: 'Access skipped (no response)',
        });
        assert.deepEqual(phaseOf(overdue, 'quick-pause', 'access'), {
          state: 'Processing',
          detail: 'Due 1 day ago',
        });
        assert.deepEqual(
          notices.map((n) => [n.integrationId, n.reason]),
          [['quick-pause', 'paused']],
        );

        await request.handle.executeUpdate(integrationActionUpdate, {
          args: [{ integrationId: 'quick-pause', action: 'skip', ...operator }],
        });
        const skipped = await request.until((v) => v.state === 'Data accessed', 'Data accessed');
        for (const id of ['quick-skip', 'quick-pause'])
          assert.deepEqual(phaseOf(skipped, id, 'access'), {
            state: 'Complete',
            detail: 'Access skipped (no response)',
          });
        assert.equal(skipped.paused, false);
      },
    );
  });

  it('a deletion waits for its selection, refuses one naming an unknown integration, and deletes only what was selected', async () => {
    const calls: CallRecord[] = [];
    await withWorker(
      {
        callConnector: (input: ConnectorCallInput) => {
          calls.push(recordOf(input));
          return Promise.resolve(
            input.phase === 'access'
              ? { done: true, count: 2, ref: `${input.integration.id}-found` }
              : { done: true, count: 2 },
          );
        },
      },
      async (start) => {
        const request = await start({ type: 'deletion', integrations: configs('crm', 'crm-full') });
        await request.until((v) => v.state === 'Data ready for deletion', 'the selection awaited');

        const refused = await request.handle
          .executeUpdate(selectionUpdate, { args: [{ integrations: ['crm', 'not-an-integration'] }] })
          .then(
            () => assert.fail('accepted'),
            (error: unknown) => error,
          );
        assert.ok(refused instanceof WorkflowUpdateFailedError, String(refused));
        assert.ok(refused.cause instanceof ApplicationFailure);
        assert.ok(
          (Object.values(REFUSAL_TYPES) as string[]).includes(refused.cause.type ?? ''),
          `refused as ${refused.cause.type}`,
        );
        assert.equal((await request.view()).selection, null, 'nothing recorded');

        await request.handle.executeUpdate(selectionUpdate, { args: [{ integrations: ['crm'] }] });
        const deleted = await request.until((v) => v.closed, 'closed');
        assert.equal(deleted.state, 'Data deleted');
        assert.deepEqual(phaseOf(deleted, 'crm', 'deletion'), {
          state: 'Complete',
          detail: '2 records deleted',
        });
        assert.deepEqual(phaseOf(deleted, 'crm-full', 'deletion'), {
          state: 'Complete',
          detail: 'Deletion skipped',
        });
        assert.deepEqual(
          calls.filter((c) => c.phase === 'deletion'),
          [{ integration: 'crm', phase: 'deletion', attempt: 1, accessRef: 'crm-found' }],
        );
      },
    );
  });

  it('a job the service accepted is polled, never submitted again, until done', async () => {
    const calls: string[] = [];
    await withWorker(
      {
        callConnector: (input: ConnectorCallInput) => {
          calls.push(`call ${input.attempt}`);
          return Promise.resolve({ done: false, job: 'job-1', pollEveryMs: 100, giveUpAfterMs: 60_000 });
        },
        pollConnector: (input: ConnectorCallInput & { job: string }) => {
          calls.push(`poll ${input.job} ${input.attempt}`);
          return Promise.resolve(
            calls.length < 4
              ? { done: false as const, job: input.job, pollEveryMs: 100, giveUpAfterMs: 60_000 }
              : { done: true as const, count: 3, ref: 'found' },
          );
        },
      },
      async (start) => {
        const request = await start({ integrations: configs('batch') });
        const done = await request.until((v) => v.state === 'Data accessed', 'Data accessed');
        assert.deepEqual(phaseOf(done, 'batch', 'access'), { state: 'Complete', detail: '3 records found' });
        assert.deepEqual(calls, ['call 1', 'poll job-1 2', 'poll job-1 3', 'poll job-1 4']);
      },
    );
  });

  it('a disconnected integration is not asked: it shows its error, operators are told once, and it waits for an operator', async () => {
    const notices: OperatorNoticeInput[] = [];
    const asked: OwnerRequestInput[] = [];
    await withWorker(
      {
        notifyOperators: (input: OperatorNoticeInput) => {
          notices.push(input);
          return Promise.resolve();
        },
        sendOwnerRequest: (input: OwnerRequestInput) => {
          asked.push(input);
          return Promise.resolve();
        },
      },
      async (start) => {
        const request = await start({
          integrations: configs('dc-disconnected'),
          operatorsEmail: 'privacy-ops@example.com',
        });
        const shown = await request.until(
          (v) => phaseOf(v, 'dc-disconnected', 'access')?.state === 'Error',
          'Error',
        );
        assert.equal(phaseOf(shown, 'dc-disconnected', 'access')?.detail, 'Disconnected integration');
        await request.handle.executeUpdate(integrationActionUpdate, {
          args: [{ integrationId: 'dc-disconnected', action: 'retry', ...operator }],
        });
        await request.until(
          (v) =>
            v.integrations[0]?.history.length === 1 &&
            phaseOf(v, 'dc-disconnected', 'access')?.state === 'Error',
          'Error again after the retry',
        );
        await request.handle.executeUpdate(integrationActionUpdate, {
          args: [{ integrationId: 'dc-disconnected', action: 'stop', ...operator }],
        });
        await request.until((v) => v.state === 'Data accessed', 'Data accessed');
        assert.deepEqual(
          notices.map((n) => [n.integrationId, n.reason]),
          [['dc-disconnected', 'disconnected']],
        );
        assert.deepEqual(asked, [], 'its owner is never emailed');
      },
    );
  });

  it('cancelled from outside during a call: the call is cancelled, and the request closes saying so', async () => {
    let cancelled = false;
    await withWorker(
      {
        callConnector: async () => {
          const context = Context.current();
          const beating = setInterval(() => context.heartbeat(), 100);
          try {
            await context.cancelled;
          } catch (error) {
            cancelled = true;
            throw error;
          } finally {
            clearInterval(beating);
          }
          return { done: true, count: 0 };
        },
      },
      async (start) => {
        const request = await start({ integrations: configs('crm') });
        await request.until((v) => phaseOf(v, 'crm', 'access')?.detail === 'Request submitted', 'submitted');
        await request.handle.cancel();
        const closed = await request.until((v) => v.closed, 'closed');
        assert.match(closed.closed_reason ?? '', /^Cancelled in Temporal/);
        // The request does not wait for the call to acknowledge: it hears at its next heartbeat.
        await eventually(async () => cancelled, Boolean, { what: 'the call in flight to be cancelled' });
      },
    );
  });
});
