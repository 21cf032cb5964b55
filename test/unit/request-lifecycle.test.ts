import assert from 'node:assert/strict';
import {
  parseLetheConfig,
  RequestLifecycle,
  type IntegrationAction,
  type PhaseStatus,
  type RequestStep,
  type RequestType,
} from '../../src/domain';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const AT = NOW.toISOString();

const INTEGRATIONS = parseLetheConfig({
  integrations: [
    { id: 'crm', name: 'CRM', type: 'api', connector: 'crm', options: { base_url: 'http://crm.test' } },
    {
      id: 'manual',
      name: 'Manual CRM',
      type: 'api',
      start: 'manual',
      connector: 'crm',
      options: { base_url: 'http://crm.test' },
    },
    {
      id: 'warehouse',
      name: 'Data Warehouse',
      type: 'direct_contact',
      owner: { name: 'Dana', email: 'dana@example.com' },
    },
    {
      id: 'later',
      name: 'Stage two',
      type: 'api',
      stage: 2,
      connector: 'crm',
      options: { base_url: 'http://crm.test' },
    },
    {
      id: 'whole',
      name: 'Whole records',
      type: 'api',
      deletion: 'full',
      connector: 'crm',
      options: { base_url: 'http://crm.test' },
    },
  ],
}).integrations;

function lifecycle(type: RequestType = 'deletion', autoProcess = false): RequestLifecycle {
  return new RequestLifecycle({
    id: 'req_lifecycle',
    type,
    regulation: 'gdpr',
    requestDate: AT,
    triggerType: 'api',
    autoProcess,
    subject: { email: 'life@example.com' },
    integrations: INTEGRATIONS,
  });
}

const status = (life: RequestLifecycle, id: string, phase: 'access' | 'deletion' = 'access') => {
  const integration = life.request.integrations.find((i) => i.id === id)!;
  return phase === 'access' ? integration.access : integration.deletion;
};

describe('the request lifecycle: opening a stage', () => {
  // [request type, stage, integrations to run, [integration, status it shows]]
  const rows: [RequestType, number, string[], [string, PhaseStatus][]][] = [
    [
      'deletion',
      1,
      ['crm', 'manual', 'warehouse'],
      [
        ['crm', { kind: 'submitted' }],
        ['manual', { kind: 'not_started' }],
        ['warehouse', { kind: 'not_started' }],
        // Whole-record deletion needs no extraction: decided by the configuration, no workflow.
        ['whole', { kind: 'complete', outcome: { kind: 'full_deletion' } }],
        ['later', { kind: 'later_stage' }],
      ],
    ],
    ['deletion', 2, ['later'], [['later', { kind: 'submitted' }]]],
    // An access request still looks at a whole-record integration.
    ['access', 1, ['crm', 'manual', 'warehouse', 'whole'], [['whole', { kind: 'submitted' }]]],
  ];
  for (const [type, stage, toRun, shown] of rows) {
    it(`${type}, stage ${stage}: runs ${toRun.join(', ')}`, () => {
      const life = lifecycle(type);
      if (stage === 2) life.openStage('access', 1);
      assert.deepEqual(life.openStage('access', stage), toRun);
      for (const [id, expected] of shown) assert.deepEqual(status(life, id), expected, id);
      assert.ok(life.hasUnpublished, 'a change to publish');
    });
  }

  it('answers each task with what the request shows as it starts it', () => {
    const life = lifecycle();
    life.openStage('access', 1);
    const task = life.task('crm', 'access');
    assert.deepEqual(task.shownOnStart, { kind: 'submitted' });
    assert.equal(task.requestId, 'req_lifecycle');
    assert.deepEqual(task.subject, { email: 'life@example.com' });
    assert.equal(task.accessRef, undefined);
  });
});

describe('the request lifecycle: what an operator’s action may do, and what it changes', () => {
  type Row = {
    what: string;
    integration: string;
    action: IntegrationAction;
    /** The integration's status before the action; its workflow runs unless `notRunning`. */
    before: PhaseStatus;
    notRunning?: boolean;
    refused?: string;
    after?: PhaseStatus;
    told?: string;
    relaunched?: boolean;
  };
  const rows: Row[] = [
    {
      what: 'a stop of a running integration completes it and tells its workflow',
      integration: 'crm',
      action: 'stop',
      before: { kind: 'submitted' },
      after: { kind: 'complete', outcome: { kind: 'stopped' } },
      told: 'stop',
    },
    {
      what: 'a stop before its workflow runs completes it here',
      integration: 'crm',
      action: 'stop',
      before: { kind: 'submitted' },
      notRunning: true,
      after: { kind: 'complete', outcome: { kind: 'stopped' } },
    },
    {
      what: 'a stop of a complete integration is refused',
      integration: 'crm',
      action: 'stop',
      before: { kind: 'complete', outcome: { kind: 'records_found', count: 1 } },
      refused: 'cannot stop "crm": it is already complete',
    },
    {
      what: 'a retry of an API error shows it submitted and tells its workflow',
      integration: 'crm',
      action: 'retry',
      before: { kind: 'error', message: 'Request error', at: AT },
      after: { kind: 'submitted' },
      told: 'retry',
    },
    {
      what: 'a retry of a workflow that failed outright starts a new one',
      integration: 'crm',
      action: 'retry',
      before: { kind: 'error', message: 'Lethe error', at: AT },
      notRunning: true,
      after: { kind: 'submitted' },
      relaunched: true,
    },
    {
      what: 'a retry of a direct contact’s error shows it not started',
      integration: 'warehouse',
      action: 'retry',
      before: { kind: 'error', message: 'Lethe error', at: AT },
      after: { kind: 'not_started' },
      told: 'retry',
    },
    {
      what: 'a retry of an integration without error is refused',
      integration: 'crm',
      action: 'retry',
      before: { kind: 'submitted' },
      refused: 'cannot retry "crm": only an integration in Error can be retried',
    },
    {
      what: 'a start of a Pending integration tells its workflow',
      integration: 'manual',
      action: 'start',
      before: { kind: 'pending', reason: 'manual_start' },
      after: { kind: 'pending', reason: 'manual_start' },
      told: 'start',
    },
    {
      what: 'a skip of a direct contact past its deadline is told to its workflow',
      integration: 'warehouse',
      action: 'skip',
      before: {
        kind: 'awaiting_owner',
        deadline: '2026-12-01T10:00:00.000Z',
        onNoResponse: 'pause',
        overdue: true,
      },
      after: {
        kind: 'awaiting_owner',
        deadline: '2026-12-01T10:00:00.000Z',
        onNoResponse: 'pause',
        overdue: true,
      },
      told: 'skip',
    },
    {
      what: 'a skip before the deadline is refused',
      integration: 'warehouse',
      action: 'skip',
      before: {
        kind: 'awaiting_owner',
        deadline: '2026-12-09T10:00:00.000Z',
        onNoResponse: 'pause',
        overdue: false,
      },
      refused: 'cannot skip "warehouse": only a direct contact past its deadline can be skipped',
    },
  ];
  for (const row of rows) {
    it(row.what, () => {
      const life = lifecycle();
      life.openStage('access', 1);
      if (!row.notRunning) life.started(row.integration, 'access');
      Object.assign(
        life.request.integrations.find((i) => i.id === row.integration)!,
        { access: row.before },
      );
      const decision = life.act(
        { integrationId: row.integration, action: row.action, actor: 'key:ab12' },
        NOW,
      );
      if (row.refused) {
        assert.equal(decision.accepted, false);
        assert.equal(!decision.accepted && decision.message, row.refused);
        assert.deepEqual(status(life, row.integration), row.before, 'nothing changed');
        assert.equal(life.request.integrations.find((i) => i.id === row.integration)!.history.length, 0);
        return;
      }
      assert.ok(decision.accepted);
      assert.deepEqual(status(life, row.integration), row.after);
      assert.deepEqual(decision.tell?.command, row.told === undefined ? undefined : { command: row.told });
      assert.equal(life.takeRelaunch(row.integration), row.relaunched ?? false);
      assert.deepEqual(life.request.integrations.find((i) => i.id === row.integration)!.history, [
        { at: AT, actor: 'key:ab12', by: null, action: row.action, phase: 'access' },
      ]);
    });
  }

  it('no action is taken while the request waits for its selection', () => {
    const life = lifecycle();
    life.finishAccess();
    const decision = life.act({ integrationId: 'crm', action: 'stop', actor: 'key:ab12' }, NOW);
    assert.equal(decision.accepted, false);
    assert.equal(!decision.accepted && decision.reason, 'invalid_state');
  });
});

describe('the request lifecycle: its steps, and what each publishes', () => {
  // [type, auto_process, the step it ends at, whether a deletion phase ran]
  const rows: [RequestType, boolean, RequestStep, boolean][] = [
    ['access', true, 'closed', false],
    ['deletion', true, 'closed', true],
    ['portability', false, 'closed', false],
  ];
  for (const [type, autoProcess, end, deleted] of rows) {
    it(`${type}${autoProcess ? ' (auto_process)' : ''}: accessing → awaiting_selection → ${deleted ? 'deleting → ' : ''}${end}`, () => {
      const life = lifecycle(type, autoProcess);
      const steps: string[] = [];
      life.onStepChanged(({ state, status }) => steps.push(`${state}/${status}`));
      life.finishAccess();
      assert.equal(life.hasSelection, autoProcess);
      if (!autoProcess) assert.ok(life.select(['crm']).accepted);
      assert.equal(life.startDeletion(), deleted);
      life.finishPhases(AT);
      assert.equal(life.needsExport, !deleted);
      life.close();
      assert.equal(life.request.step, end);
      assert.deepEqual(
        steps,
        deleted
          ? ['Data ready for deletion/pending', 'Deleting data/pending', 'Data deleted/done']
          : ['Data accessed/pending', 'Data accessed/done'],
      );
      const publication = life.takePublication();
      assert.deepEqual(publication?.searchAttributes, {
        state: deleted ? 'Data deleted' : 'Data accessed',
        status: 'done',
      });
      assert.equal(life.takePublication(), undefined, 'taken once');
    });
  }

  it('a report changes what is published, not the search attributes', () => {
    const life = lifecycle();
    life.takePublication();
    life.report({ integrationId: 'crm', phase: 'access', status: { kind: 'submitted', attempt: 2 } });
    assert.deepEqual(life.takePublication(), {});
  });

  it('a selection is refused before access is over, and taken once', () => {
    const life = lifecycle();
    assert.equal(life.select(['crm']).accepted, false);
    life.finishAccess();
    assert.equal(life.selectionAnsweredOnDeletion, true);
    assert.ok(life.select(['crm']).accepted);
    assert.equal(life.select(['crm']).accepted, false);
    assert.deepEqual(life.request.selection, ['crm']);
  });

  it('an export that cannot be built closes the request early, showing the state it reached', () => {
    const life = lifecycle('access', true);
    life.openStage('access', 1);
    life.finishAccess();
    life.finishPhases(AT);
    life.exportFailed(AT);
    life.close();
    assert.equal(life.request.closedEarly?.cause, 'export_failed');
    assert.deepEqual(life.publication, { state: 'Data accessed', status: 'done' });
    assert.deepEqual(status(life, 'warehouse'), { kind: 'complete', outcome: { kind: 'stopped' } });
  });

  it('a cancelled deletion never reads "Data deleted"', () => {
    const life = lifecycle('deletion');
    life.openStage('access', 1);
    life.cancelled(AT);
    assert.deepEqual(life.publication, { state: 'Accessing data', status: 'done' });
    assert.ok(life.closed);
  });
});

describe('the request lifecycle: an integration’s workflow and the request', () => {
  it('a result never reopens a phase the request decided (an operator’s stop wins)', () => {
    const life = lifecycle();
    life.openStage('access', 1);
    life.started('crm', 'access');
    assert.ok(life.act({ integrationId: 'crm', action: 'stop', actor: 'key:ab12' }, NOW).accepted);
    life.ended('crm', 'access', {
      status: { kind: 'complete', outcome: { kind: 'records_found', count: 3 } },
      ref: 'blob',
    });
    assert.deepEqual(status(life, 'crm'), { kind: 'complete', outcome: { kind: 'stopped' } });
    assert.equal(life.task('crm', 'deletion').accessRef, 'blob', 'the records found are kept for deletion');
  });

  it('a stop accepted while its workflow was being started is told once it runs', () => {
    const life = lifecycle();
    life.openStage('access', 1);
    assert.ok(life.act({ integrationId: 'crm', action: 'stop', actor: 'key:ab12' }, NOW).accepted);
    assert.deepEqual(life.started('crm', 'access'), {
      integrationId: 'crm',
      phase: 'access',
      command: { command: 'stop' },
    });
  });

  it('closing a stage tells what still runs to stop (complete here) or to close the phase', () => {
    const life = lifecycle();
    life.openStage('access', 1);
    life.started('crm', 'access');
    life.started('warehouse', 'access');
    assert.ok(life.act({ integrationId: 'crm', action: 'stop', actor: 'key:ab12' }, NOW).accepted);
    assert.deepEqual(
      life.closeStage('access').map((o) => [o.integrationId, o.command.command]),
      [
        ['crm', 'stop'],
        ['warehouse', 'close_phase'],
      ],
    );
  });

  it('a workflow that failed outright shows an error, and waits for an operator', () => {
    const life = lifecycle();
    life.openStage('access', 1);
    life.interrupted('crm');
    life.failed('crm', 'access', AT);
    assert.deepEqual(status(life, 'crm'), { kind: 'error', message: 'Lethe error', at: AT });
    assert.equal(life.decidedAfterFailure('crm', 'access'), false);
    assert.ok(life.act({ integrationId: 'crm', action: 'stop', actor: 'key:ab12' }, NOW).accepted);
    assert.equal(life.decidedAfterFailure('crm', 'access'), true);
    assert.equal(life.takeRelaunch('crm'), false, 'stopped, not run again');
  });

  it('an owner’s answer completes the phase, keeps the files and is told to the integration', () => {
    const life = lifecycle('access');
    life.openStage('access', 1);
    life.report({
      integrationId: 'warehouse',
      phase: 'access',
      status: {
        kind: 'awaiting_owner',
        deadline: '2026-12-09T10:00:00.000Z',
        onNoResponse: 'skip',
        overdue: false,
      },
    });
    const answer = { answer: 'files' as const, files: [{ ref: 'blob/1', name: 'export.csv', size: 3 }] };
    const decision = life.answerOwner({ integrationId: 'warehouse', phase: 'access', answer });
    assert.ok(decision.accepted);
    assert.deepEqual(decision.tell.command, { command: 'owner_reply', answer });
    assert.deepEqual(status(life, 'warehouse'), {
      kind: 'complete',
      outcome: { kind: 'files_uploaded', count: 1 },
    });
    assert.equal(life.answerOwner({ integrationId: 'warehouse', phase: 'access', answer }).accepted, false);
  });
});
