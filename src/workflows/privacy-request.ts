import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import {
  decideIntegrationAction,
  decideOwnerReply,
  decideSelection,
  statusAfterRetry,
  type Decision,
} from '../domain/decisions';
import type { IntegrationConfig } from '../domain/integration-config';
import type { LetheActivities } from '../activities';
import { parseDuration } from '../domain/duration';
import { isComplete } from '../domain/integration-state';
import {
  applyPhaseReport,
  closeEarly,
  DEFAULT_RETENTION,
  integrationById,
  automaticSelection,
  isPhaseSettled,
  markAwaitingSelection,
  newRequestSnapshot,
  phaseStatus,
  planAccess,
  planDeletion,
  setPhaseStatus,
  shownState,
  stagesOf,
  statusOnStart,
  type IntegrationSnapshot,
  type PrivacyRequestInput,
  type RequestSnapshot,
} from '../domain/privacy-request';
import { proofRecordOf, snapshotOfProof, type ProofRecord } from '../domain/proof-record';
import { requestStatus, type Phase } from '../domain/request';
import {
  getRequestQuery,
  PROOF_MEMO,
  REQUEST_MEMO,
  integrationActionUpdate,
  integrationCommandSignal,
  integrationWorkflowId,
  ownerReplyUpdate,
  phaseReportSignal,
  REFUSAL_TYPES,
  requestStateAttribute,
  requestStatusAttribute,
  selectionUpdate,
  type IntegrationActionInput,
  type IntegrationCommand,
} from './definitions';
import { IntegrationWorkflow, type IntegrationWorkflowResult } from './integration';

/** Reads every blob of the request as it goes, and says so: a lost worker's export is built again within a minute. */
const exportActivities = wf.proxyActivities<LetheActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  // About two hours of tries; then the request closes and says it could not send the package.
  retry: { initialInterval: '5 seconds', maximumInterval: '30 minutes', maximumAttempts: 12 },
});

/**
 * The end of the retention period is not given up on (the data must go): each try is bounded,
 * the tries are not.
 */
const purgeActivities = wf.proxyActivities<LetheActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes' },
});

const takeoverActivities = wf.proxyActivities<LetheActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 10 },
});

function accepted<T>(decision: Decision<T>): asserts decision is { accepted: true } & T {
  if (!decision.accepted)
    throw wf.ApplicationFailure.nonRetryable(decision.message, REFUSAL_TYPES[decision.reason]);
}

/**
 * One privacy request: the access phase across every integration, stage by stage; the selection
 * (or `auto_process`); for deletion, the deletion phase. Holds the request's snapshot, which the
 * integrations' workflows keep current and one query returns.
 */
export async function PrivacyRequestWorkflow(
  input: PrivacyRequestInput,
): Promise<RequestSnapshot | ProofRecord> {
  const request = newRequestSnapshot(input);
  /** Cancelled from outside (the Web UI's "Request Cancellation", `temporal workflow cancel`). */
  const root = wf.CancellationScope.current();
  const configs = new Map<string, IntegrationConfig>(input.integrations.map((c) => [c.id, c]));
  /** Integrations whose workflow runs now, in the active phase. */
  const running = new Set<string>();
  /** Integrations whose workflow failed outright, and that an operator asked to run again. */
  const relaunch = new Set<string>();
  /** Where each API integration's access phase left its records. */
  const accessRefs = new Map<string, string>();

  const publishState = () =>
    wf.upsertSearchAttributes([
      { key: requestStateAttribute, value: shownState(request) },
      { key: requestStatusAttribute, value: requestStatus(request.step) },
    ]);
  /**
   * A command to an integration's workflow. It may have just finished (a phase closing as an owner
   * answers): then there is nobody left to tell, and the request's own record already holds the decision.
   */
  const tellIntegration = (integrationId: string, phase: Phase, command: IntegrationCommand) =>
    wf
      .getExternalWorkflowHandle(integrationWorkflowId(request.id, integrationId, phase))
      .signal(integrationCommandSignal, command)
      .catch(() => undefined);
  const nowIso = () => new Date().toISOString();
  const integrationNamed = (id: string) => integrationById(request, id) as IntegrationSnapshot;
  const decideAction = ({ integrationId, action }: IntegrationActionInput) =>
    decideIntegrationAction(request, integrationId, action, running.has(integrationId), new Date());

  wf.setHandler(getRequestQuery, () => request);
  let published = '';
  let latest = '';
  /** Whether the snapshot changed since it was last published (REQUEST_MEMO). */
  const changed = () => (latest = JSON.stringify(request)) !== published;
  const publishSnapshot = () => {
    published = latest;
    wf.upsertMemo({ [REQUEST_MEMO]: request });
  };
  /** Once the request's data is gone, its snapshot is never published again. */
  let forgotten = false;
  const publishing = wf.patched('publish-request-memo');
  if (publishing) {
    // After the handlers and steps that changed it: once per activation, or a few times at most.
    // Not cancellable: a cancelled request goes on publishing what it shows, closed.
    void wf.CancellationScope.nonCancellable(async () => {
      for (;;) {
        await wf.condition(() => !forgotten && changed());
        publishSnapshot();
      }
    });
  }
  wf.setHandler(phaseReportSignal, ({ integrationId, phase, status }) =>
    applyPhaseReport(request, integrationId, phase, status),
  );

  wf.setHandler(
    integrationActionUpdate,
    async (input) => {
      const decision = decideAction(input);
      accepted(decision);
      const { integrationId, action } = input;
      const integration = integrationNamed(integrationId);
      integration.history.push({
        at: nowIso(),
        actor: input.actor,
        by: input.by ?? null,
        action,
        phase: decision.phase,
      });
      if (action === 'stop')
        setPhaseStatus(integration, decision.phase, { kind: 'complete', outcome: { kind: 'stopped' } });
      if (action === 'retry') setPhaseStatus(integration, decision.phase, statusAfterRetry(integration.type));
      if (decision.forward) await tellIntegration(integrationId, decision.phase, { command: action });
      else if (action === 'retry') relaunch.add(integrationId);
      return request;
    },
    { validator: (input) => accepted(decideAction(input)) },
  );

  wf.setHandler(
    ownerReplyUpdate,
    async ({ integrationId, phase, answer, linkId }) => {
      const decision = decideOwnerReply(request, integrationId, phase, answer, linkId);
      accepted(decision);
      applyPhaseReport(request, integrationId, phase, { kind: 'complete', outcome: decision.outcome });
      if (answer.answer === 'files') integrationNamed(integrationId).uploads.push(...answer.files);
      await tellIntegration(integrationId, phase, { command: 'owner_reply', answer });
      return request;
    },
    {
      validator: ({ integrationId, phase, answer, linkId }) =>
        accepted(decideOwnerReply(request, integrationId, phase, answer, linkId)),
    },
  );

  wf.setHandler(
    selectionUpdate,
    async ({ integrations }) => {
      accepted(decideSelection(request, integrations));
      request.selection = integrations;
      // Answer with the request as the selection left it: deleting, or (access types) selected and
      // about to be sent, without waiting for its package (requests started before waited for it).
      if (request.type === 'deletion' || !wf.patched('selection-answers-once-recorded')) {
        await wf.condition(() => request.step !== 'awaiting_selection');
      }
      return request;
    },
    { validator: ({ integrations }) => accepted(decideSelection(request, integrations)) },
  );

  /**
   * Runs one integration's workflow to its end. What the request's record says wins over the
   * child's result: an operator's stop or an owner's answer accepted here is final.
   */
  async function runIntegration(integration: IntegrationSnapshot, phase: Phase): Promise<void> {
    const config = configs.get(integration.id) as IntegrationConfig;
    const workflowId = integrationWorkflowId(request.id, integration.id, phase);
    const settle = (result: IntegrationWorkflowResult) => {
      applyPhaseReport(request, integration.id, phase, result.status);
      if (result.ref !== undefined) accessRefs.set(integration.id, result.ref);
    };
    for (;;) {
      try {
        const shownOnStart = phaseStatus(integration, phase)!;
        const child = await wf.startChild(IntegrationWorkflow, {
          workflowId,
          // A new run only where the last one failed (an operator's retry): a request reset to an
          // earlier point finds the integrations its earlier run started, and takes them over below.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          // Nothing of a request runs once it has ended.
          parentClosePolicy: 'TERMINATE',
          cancellationType: 'WAIT_CANCELLATION_COMPLETED',
          args: [
            {
              requestId: request.id,
              requestType: request.type,
              phase,
              subject: input.subject,
              integration: config,
              accessRef: accessRefs.get(integration.id),
              operatorsEmail: input.operatorsEmail,
              shownOnStart,
            },
          ],
        });
        running.add(integration.id);
        // Stopped while its workflow was being started: tell it now.
        if (isComplete(phaseStatus(integration, phase)!))
          await tellIntegration(integration.id, phase, { command: 'stop' });
        settle(await child.result());
        running.delete(integration.id);
        return;
      } catch (error) {
        running.delete(integration.id);
        // The request is cancelled: it closes, and shows this integration stopped.
        if (root.consideredCancelled) return;
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          const found = await takeoverActivities
            .takeOverIntegration(workflowId)
            .catch(() => ({ kind: 'none' }) as const);
          if (found.kind === 'completed') return settle(found.result);
          if (found.kind === 'terminated') continue;
        }
        // The integration's workflow itself failed (terminated, timed out): show it, and let an
        // operator retry (a new run) or stop it, like any other error.
        applyPhaseReport(request, integration.id, phase, {
          kind: 'error',
          message: 'Lethe error',
          at: nowIso(),
        });
        const relaunched = await wf
          .condition(() => relaunch.has(integration.id) || isComplete(phaseStatus(integration, phase)!))
          .then(
            () => relaunch.delete(integration.id),
            // Cancelled while it waited for an operator: the request closes.
            () => false,
          );
        if (!relaunched) return;
      }
    }
  }

  /** Every integration's run so far; none rejects, so a cancelled request can wait for them all. */
  const inFlight: Promise<void>[] = [];

  async function runPhase(phase: Phase): Promise<void> {
    for (const stage of stagesOf(request.integrations)) {
      const runs: Promise<void>[] = [];
      for (const integration of request.integrations.filter((i) => i.stage === stage)) {
        const status = phaseStatus(integration, phase);
        if (status === null || isComplete(status)) continue;
        const config = configs.get(integration.id) as IntegrationConfig;
        const plan =
          phase === 'access'
            ? planAccess(config, request.type)
            : planDeletion(config, integration.access, (request.selection ?? []).includes(integration.id));
        if (!plan.run) {
          setPhaseStatus(integration, phase, { kind: 'complete', outcome: plan.outcome });
          continue;
        }
        setPhaseStatus(integration, phase, statusOnStart(config));
        const run = runIntegration(integration, phase);
        runs.push(run);
        inFlight.push(run);
      }
      await wf.condition(() => isPhaseSettled(request, phase, stage));
      // Still running now: direct contacts past a deadline configured to skip, open for a late
      // answer until here, and integrations the request already holds as complete.
      await Promise.all(
        [...running].map((id) =>
          tellIntegration(id, phase, {
            command: isComplete(phaseStatus(integrationNamed(id), phase)!) ? 'stop' : 'close_phase',
          }),
        ),
      );
      await Promise.all(runs);
    }
  }

  async function runRequest(): Promise<void> {
    await runPhase('access');

    markAwaitingSelection(request);
    publishState();
    if (input.autoProcess) request.selection = automaticSelection(request);
    else await wf.condition(() => request.selection !== null);

    if (request.type === 'deletion') {
      request.step = 'deleting';
      publishState();
      await runPhase('deletion');
    }

    request.closedAt = nowIso();
    if (request.type !== 'deletion') {
      try {
        const ref = await exportActivities.buildExport({
          request,
          recordRefs: Object.fromEntries(accessRefs),
          categories: Object.fromEntries(input.integrations.map((c) => [c.id, c.categories])),
        });
        request.export = { ref, at: nowIso() };
      } catch (error) {
        if (root.consideredCancelled) throw error;
        closeEarly(request, 'export_failed', nowIso());
      }
    }
    request.step = 'closed';
    publishState();
  }

  try {
    await runRequest();
  } catch (error) {
    if (!root.consideredCancelled) throw error;
    await wf.CancellationScope.nonCancellable(async () => {
      // Its integrations' workflows are cancelled with it: once they have stopped, it closes.
      await Promise.all(inFlight);
      closeEarly(request, 'cancelled', nowIso());
      publishState();
    });
  }

  // The request stays readable for its retention period; then its data goes, and so does it.
  // Closed, it is not cancelled any more: its data must go when the period ends.
  return wf.CancellationScope.nonCancellable(async () => {
    await wf.sleep(parseDuration(input.retention ?? DEFAULT_RETENTION));
    return forget();
  });

  /**
   * The retention period is over: the request's data goes, everywhere it is kept, and only its
   * proof remains: the memo, the query and the result after this point hold no personal data.
   */
  async function forget(): Promise<RequestSnapshot | ProofRecord> {
    await purgeActivities.purgeRequestData(request.id);
    if (!wf.patched('forget-keeps-proof')) {
      request.purgedAt = nowIso();
      await wf.condition(wf.allHandlersFinished);
      if (publishing && changed()) publishSnapshot();
      return request;
    }
    forgotten = true;
    await wf.condition(wf.allHandlersFinished);
    const proof = proofRecordOf(request, nowIso());
    wf.setHandler(getRequestQuery, () => snapshotOfProof(proof));
    wf.upsertMemo({ [REQUEST_MEMO]: undefined, [PROOF_MEMO]: proof });
    return proof;
  }
}
