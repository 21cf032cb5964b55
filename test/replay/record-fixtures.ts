/**
 * Records the histories of test/replay/running: requests stopped at every step of their life, on
 * the code checked out, through the whole stack on a real dev server (test/support/stack.ts). Run it
 * on a release, commit what it writes, and the replay test proves that requests in flight on that
 * release finish on any later code. Payloads are encrypted with the fixture key; subjects are made up.
 * Naming scenarios records only those, leaving the others as they were recorded.
 *
 *   node_modules/.bin/tsx test/replay/record-fixtures.ts [scenario…]
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { RequestView } from '../../src/domain';
import { integrationWorkflowId } from '../../src/workflows/definitions';
import { eventually } from '../support/http';
import { injectCrmFault, integration, LetheApi, untilCrmFaultsUsed } from '../support/lethe';
import { Stack } from '../support/stack';
import { FIXTURE_KEY } from './fixtures';

const FOLDER = path.join(__dirname, 'running');
const PHASES = ['access', 'deletion'] as const;
const ONLY = process.argv.slice(2);

const stack = new Stack('dev', FIXTURE_KEY);
const lethe = new LetheApi(stack);

/** A subject of its own per scenario, with a few records in the sandbox CRM. */
function subjectFor(scenario: string): { email: string } {
  const email = `${scenario}@example.com`;
  for (const kind of ['contact', 'note']) {
    stack.crm.contacts.set(`c_${scenario}_${kind}`, { id: `c_${scenario}_${kind}`, email, kind });
  }
  return { email };
}

const phaseIs =
  (integrationId: string, phase: 'access' | 'deletion', state: string, detail: RegExp) =>
  (r: RequestView) => {
    const view = integration(r, integrationId)[phase];
    return view?.state === state && detail.test(view.detail ?? '');
  };

/** Until the workflow has no task to run and its history stops growing: a point a worker would leave it at. */
async function settledHistory(workflowId: string) {
  const handle = stack.client.workflow.getHandle(workflowId);
  let length = -1;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    const { raw } = await handle.describe();
    const history = await handle.fetchHistory();
    const events = history.events?.length ?? 0;
    if (!raw.pendingWorkflowTask && events === length) return history;
    length = events;
  }
}

/** Saves the histories of the request and of every integration workflow it started, as they are now. */
async function record(scenario: string, request: RequestView): Promise<void> {
  if (ONLY.length > 0 && !ONLY.includes(scenario)) return;
  const folder = path.join(FOLDER, scenario);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const save = async (workflowId: string, name: string) => {
    const history = await settledHistory(workflowId);
    writeFileSync(
      path.join(folder, `${name}.binpb`),
      temporal.api.history.v1.History.encode(history).finish(),
    );
  };
  // All at once, so that the request and its integrations are seen at the same moment.
  const integrations = request.integrations.flatMap(({ id }) =>
    PHASES.map((phase) =>
      save(integrationWorkflowId(request.id, id, phase), `${id}.${phase}`).catch((error: unknown) => {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }),
    ),
  );
  await Promise.all([save(request.id, 'request'), ...integrations]);
  console.log(`${scenario}: ${request.id}, ${request.state}`);
}

async function ok(result: Promise<{ status: number; body: unknown }>) {
  const { status, body } = await result;
  assert.ok(status < 300, JSON.stringify(body));
}

async function main() {
  await stack.start();
  if (ONLY.length === 0) rmSync(FOLDER, { recursive: true, force: true });

  // Accessing: a call in flight.
  {
    await injectCrmFault(stack, { delay_ms: 4000, times: 1, method: 'GET', path: '/contacts' });
    const created = await lethe.create({
      type: 'access',
      subject: subjectFor('call-in-flight'),
      integrations: ['crm'],
    });
    await untilCrmFaultsUsed(stack, 'the slow call to start');
    await record('call-in-flight', await lethe.get(created.id));
  }

  // Accessing: a transient failure, retried once the service's Retry-After is over (an hour).
  {
    await injectCrmFault(stack, {
      status: 429,
      retry_after: '3600',
      times: 1,
      method: 'GET',
      path: '/contacts',
    });
    const created = await lethe.create({
      type: 'access',
      subject: subjectFor('retry-after'),
      integrations: ['crm'],
    });
    await record(
      'retry-after',
      await lethe.until(created.id, (r) => integration(r, 'crm').access?.attempt === 2, 'attempt 2 shown'),
    );
  }

  // Accessing: a Batch job polled, between two polls (Batch keeps it pending for an hour).
  {
    const customId = 'batch-polling';
    stack.batch.users.push({ type: 'custom_id', value: customId, files: { 'profile.json': { customId } } });
    const since = Date.now();
    const created = await lethe.create({
      type: 'access',
      subject: { custom_id: customId },
      integrations: ['batch'],
    });
    const polls = () =>
      stack.batch.controls.calls.filter((c) => c.method === 'GET' && Date.parse(c.at) >= since).length;
    const job = await eventually(
      async () => [...stack.batch.requests.values()].find((r) => r.subject.value === customId),
      (found) => found !== undefined,
      { what: 'the Batch request' },
    );
    job!.createdAt += 3_600_000;
    await eventually(
      async () => polls(),
      (count) => count >= 2,
      { what: 'two polls' },
    );
    await record('batch-polling', await lethe.get(created.id));
  }

  // Accessing: an error that waits for an operator's retry or stop; and an integration started by hand.
  {
    const created = await lethe.create({
      type: 'access',
      subject: subjectFor('error-and-manual'),
      integrations: ['crm-wrong-key', 'crm-manual'],
    });
    await record(
      'error-and-manual',
      await lethe.until(
        created.id,
        (r) =>
          phaseIs('crm-wrong-key', 'access', 'Error', /Authorization error/)(r) &&
          phaseIs('crm-manual', 'access', 'Pending', /.*/)(r),
        'an error and a pending start',
      ),
    );
  }

  // Waiting on owners: one without a reminder, one whose reminder is due in days; and one overdue, paused.
  {
    const created = await lethe.create({
      type: 'access',
      subject: subjectFor('owner-waiting'),
      integrations: ['warehouse', 'days-pause', 'quick-pause'],
    });
    await record(
      'owner-waiting',
      await lethe.until(
        created.id,
        (r) =>
          phaseIs('warehouse', 'access', 'Processing', /^Due in 14 days$/)(r) &&
          phaseIs('days-pause', 'access', 'Processing', /^Due in 14 days$/)(r) &&
          phaseIs('quick-pause', 'access', 'Processing', /ago$/)(r),
        'two owners due in 14 days, one overdue',
      ),
    );
  }

  // Awaiting the selection: an access request.
  {
    const created = await lethe.create({
      type: 'access',
      subject: subjectFor('selection-access'),
      integrations: ['crm'],
    });
    await record(
      'selection-access',
      await lethe.until(created.id, (r) => r.state === 'Data accessed', 'the selection awaited'),
    );
  }

  // A deletion: awaiting the selection, then mid-way (a delete in flight, an owner asked), then in
  // its retention period.
  {
    const created = await lethe.create({
      type: 'deletion',
      subject: subjectFor('deletion'),
      integrations: ['crm', 'warehouse'],
    });
    await ok(lethe.answerAsOwner(created.id, 'dana.owner@example.com', { answer: 'no_data' }, 'access'));
    await record(
      'selection-deletion',
      await lethe.until(created.id, (r) => r.state === 'Data ready for deletion', 'the selection awaited'),
    );

    await injectCrmFault(stack, { delay_ms: 4000, times: 1, method: 'DELETE', path: '/contacts/*' });
    await ok(lethe.post(`/v1/requests/${created.id}/selection`, { integrations: ['crm', 'warehouse'] }));
    await untilCrmFaultsUsed(stack, 'the slow delete to start');
    await record(
      'deletion-midway',
      await lethe.until(
        created.id,
        phaseIs('warehouse', 'deletion', 'Processing', /^Due in 14 days$/),
        'the owner asked to delete',
      ),
    );

    await ok(lethe.answerAsOwner(created.id, 'dana.owner@example.com', { answer: 'deleted' }, 'deletion'));
    await record('retention-deletion', await lethe.until(created.id, (r) => r.closed, 'closed'));
  }

  // Sleeping out its retention: an access request closed with its export; and a cancelled one.
  {
    const created = await lethe.create({
      type: 'access',
      auto_process: true,
      subject: subjectFor('retention-access'),
      integrations: ['crm', 'crm-stage2'],
    });
    await record(
      'retention-access',
      await lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'closed with its export'),
    );
  }
  {
    const created = await lethe.create({
      type: 'access',
      subject: subjectFor('retention-cancelled'),
      integrations: ['crm-manual'],
    });
    await lethe.until(created.id, phaseIs('crm-manual', 'access', 'Pending', /.*/), 'pending');
    await stack.client.workflow.getHandle(created.id).cancel();
    await record(
      'retention-cancelled',
      await lethe.until(created.id, (r) => r.closed, 'closed as cancelled'),
    );
  }

  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  console.log(`recorded in ${path.relative(process.cwd(), FOLDER)} from ${commit}`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stack.stop());
