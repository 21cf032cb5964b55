import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { LetheActivities } from '../activities';
import type { Decision } from '../domain/decisions';
import { parseDuration } from '../domain/duration';
import { DEFAULT_RETENTION } from '../domain/integration-config';
import {
  recordOf,
  type PrivacyRequestInput,
  type RequestRecord,
  type RequestSnapshot,
} from '../domain/privacy-request';
import { proofRecordOf, snapshotOfProof, type ProofRecord } from '../domain/proof-record';
import type { Phase } from '../domain/request';
import { RequestLifecycle, type IntegrationOrder, type Publication } from '../domain/request-lifecycle';
import {
  getRequestQuery,
  integrationActionUpdate,
  integrationCommandSignal,
  integrationWorkflowId,
  ownerReplyUpdate,
  phaseReportSignal,
  PROOF_MEMO,
  PURGED_STATUS,
  RECORD_MEMO,
  REFUSAL_TYPES,
  REQUEST_MEMO,
  requestStateAttribute,
  requestStatusAttribute,
  selectionUpdate,
} from './definitions';
import { IntegrationWorkflow } from './integration';

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

const nowIso = () => new Date().toISOString();

/** One request's run: its lifecycle, and what its workflow's parts share. */
interface Run {
  life: RequestLifecycle;
  /** Cancelled from outside (the Web UI's "Request Cancellation", `temporal workflow cancel`). */
  root: wf.CancellationScope;
  /**
   * A command to an integration's workflow. It may have just finished (a phase closing as an owner
   * answers): then there is nobody left to tell, and the request's own record already holds the decision.
   */
  tell(order: IntegrationOrder): Promise<void>;
  /** Every integration's run so far; none rejects, so a cancelled request can wait for them all. */
  inFlight: Promise<void>[];
}

/**
 * One privacy request: the access phase across every integration, stage by stage; the selection
 * (or `auto_process`); for deletion, the deletion phase; for access types, the package. Its life
 * is `RequestLifecycle`'s: this wires messages, children and timers to it. It completes when the
 * request closes; the retention sweep deletes its data when its retention period ends.
 */
export async function PrivacyRequestWorkflow(
  input: PrivacyRequestInput,
): Promise<RequestRecord | RequestSnapshot | ProofRecord> {
  const life = new RequestLifecycle(input);
  const publisher = startPublishing(life);
  const run: Run = {
    life,
    root: wf.CancellationScope.current(),
    tell: (order) =>
      wf
        .getExternalWorkflowHandle(integrationWorkflowId(input.id, order.integrationId, order.phase))
        .signal(integrationCommandSignal, order.command)
        .catch(() => undefined),
    inFlight: [],
  };
  handleMessages(run);

  try {
    await runRequest(run);
  } catch (error) {
    if (!run.root.consideredCancelled) throw error;
    await wf.CancellationScope.nonCancellable(async () => {
      // Its integrations' workflows are cancelled with it: once they have stopped, it closes.
      await Promise.all(run.inFlight);
      life.cancelled(nowIso());
    });
  }

  // Closed, it is not cancelled any more, and has nothing left to do: its record stays readable
  // in its memo, and the retention sweep deletes its data when the period ends. Requests started
  // before slept out the period, then deleted their data themselves.
  return wf.CancellationScope.nonCancellable(async () => {
    if (wf.patched('closed-request-completes')) return publisher.close();
    await wf.sleep(parseDuration(input.retention ?? DEFAULT_RETENTION));
    await purgeActivities.purgeRequestData(input.id);
    return publisher.forget();
  });
}

/** Every message the request takes: the lifecycle decides (the validators) and changes; this tells the integrations. */
function handleMessages({ life, tell }: Run): void {
  wf.setHandler(getRequestQuery, () => life.request);
  wf.setHandler(phaseReportSignal, (report) => life.report(report));
  wf.setHandler(
    integrationActionUpdate,
    async (action) => {
      const decision = life.act(action, new Date());
      accepted(decision);
      if (decision.tell) await tell(decision.tell);
      return life.request;
    },
    { validator: (action) => accepted(life.decideAction(action, new Date())) },
  );
  wf.setHandler(
    ownerReplyUpdate,
    async (reply) => {
      const decision = life.answerOwner(reply);
      accepted(decision);
      await tell(decision.tell);
      return life.request;
    },
    { validator: (reply) => accepted(life.decideOwnerReply(reply)) },
  );
  wf.setHandler(
    selectionUpdate,
    async ({ integrations }) => {
      accepted(life.select(integrations));
      // Requests started before answered an access type's selection only once its package was built.
      if (life.selectionAnsweredOnDeletion || !wf.patched('selection-answers-once-recorded')) {
        await wf.condition(() => !life.awaitingSelection);
      }
      return life.request;
    },
    { validator: ({ integrations }) => accepted(life.decideSelection(integrations)) },
  );
}

async function runRequest(run: Run): Promise<void> {
  const { life } = run;
  await runPhase(run, 'access');
  life.finishAccess();
  if (!life.hasSelection) await wf.condition(() => life.hasSelection);
  if (life.startDeletion()) await runPhase(run, 'deletion');
  life.finishPhases(nowIso());
  if (life.needsExport) {
    try {
      life.exported(await exportActivities.buildExport(life.exportInput()), nowIso());
    } catch (error) {
      if (run.root.consideredCancelled) throw error;
      life.exportFailed(nowIso());
    }
  }
  life.close();
}

async function runPhase(run: Run, phase: Phase): Promise<void> {
  const { life } = run;
  for (const stage of life.stages) {
    const runs = life.openStage(phase, stage).map((id) => runIntegration(run, id, phase));
    run.inFlight.push(...runs);
    await wf.condition(() => life.isStageSettled(phase, stage));
    await Promise.all(life.closeStage(phase).map(run.tell));
    await Promise.all(runs);
  }
}

/** Runs one integration's workflow to its end, again after an operator's retry of one that failed. */
async function runIntegration({ life, root, tell }: Run, integrationId: string, phase: Phase): Promise<void> {
  const workflowId = integrationWorkflowId(life.request.id, integrationId, phase);
  for (;;) {
    try {
      const child = await wf.startChild(IntegrationWorkflow, {
        workflowId,
        // A new run only where the last one failed (an operator's retry): a request reset to an
        // earlier point finds the integrations its earlier run started, and takes them over below.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        // Nothing of a request runs once it has ended.
        parentClosePolicy: 'TERMINATE',
        cancellationType: 'WAIT_CANCELLATION_COMPLETED',
        args: [life.task(integrationId, phase)],
      });
      const stop = life.started(integrationId, phase);
      if (stop) await tell(stop);
      return life.ended(integrationId, phase, await child.result());
    } catch (error) {
      life.interrupted(integrationId);
      if (root.consideredCancelled) return;
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        const found = await takeoverActivities
          .takeOverIntegration(workflowId)
          .catch(() => ({ kind: 'none' }) as const);
        if (found.kind === 'completed') return life.ended(integrationId, phase, found.result);
        if (found.kind === 'terminated') continue;
      }
      life.failed(integrationId, phase, nowIso());
      const retried = await wf
        .condition(() => life.decidedAfterFailure(integrationId, phase))
        .then(
          () => life.takeRelaunch(integrationId),
          // Cancelled while it waited for an operator: the request closes.
          () => false,
        );
      if (!retried) return;
    }
  }
}

/**
 * How a request shows itself outside its workflow: its search attributes (the list's filters) and
 * its memo (what reads answer from, without a worker). Requests started now publish what changed
 * once a batch of changes settles, from one loop, the record without the subject. Requests started
 * before replay as they published: search attributes as each step changed, and from
 * `publish-request-memo` on, the whole snapshot whenever its JSON changed.
 */
function startPublishing(life: RequestLifecycle) {
  const showStep = ({ state, status }: Publication) =>
    wf.upsertSearchAttributes([
      { key: requestStateAttribute, value: state },
      { key: requestStatusAttribute, value: status },
    ]);
  /** Cleared once the request has closed (or its data is gone): nothing is published after. */
  let publishing = true;
  const loop = (publishWhen: () => boolean, publish: () => void) =>
    void wf.CancellationScope.nonCancellable(async () => {
      for (;;) {
        await wf.condition(() => publishing && publishWhen());
        publish();
      }
    });
  /** Publishes what changed since the last publication, if anything did. */
  let publishChanges = () => {};

  const publishesChanges = wf.patched('publish-changes-once');
  if (publishesChanges) {
    publishChanges = () => {
      const publication = life.takePublication();
      if (!publication) return;
      if (publication.searchAttributes) showStep(publication.searchAttributes);
      wf.upsertMemo({ [RECORD_MEMO]: recordOf(life.request) });
    };
    loop(() => life.hasUnpublished, publishChanges);
  } else {
    life.onStepChanged(showStep);
    if (wf.patched('publish-request-memo')) {
      let published = '';
      let latest = '';
      const changed = () => (latest = JSON.stringify(life.request)) !== published;
      const publishSnapshot = () => {
        published = latest;
        wf.upsertMemo({ [REQUEST_MEMO]: life.request });
      };
      publishChanges = () => {
        if (changed()) publishSnapshot();
      };
      loop(changed, publishSnapshot);
    }
  }

  return {
    /** The request closed: its final record, in its memo and as the workflow's result, without the subject. */
    async close(): Promise<RequestRecord> {
      await wf.condition(wf.allHandlersFinished);
      publishing = false;
      const publication = life.takePublication();
      if (publishesChanges && publication?.searchAttributes) showStep(publication.searchAttributes);
      const record = recordOf(life.request);
      // Requests started before records leave their whole snapshot, the subject's identifiers with it.
      wf.upsertMemo(
        publishesChanges ? { [RECORD_MEMO]: record } : { [REQUEST_MEMO]: undefined, [RECORD_MEMO]: record },
      );
      return record;
    },

    /**
     * (Requests that slept out their retention period.) Their data is gone: only their proof
     * remains, and the memo, the query and the result after this point hold no personal data.
     */
    async forget(): Promise<RequestSnapshot | ProofRecord> {
      if (!wf.patched('forget-keeps-proof')) {
        life.request.purgedAt = nowIso();
        await wf.condition(wf.allHandlersFinished);
        publishChanges();
        return life.request;
      }
      publishing = false;
      await wf.condition(wf.allHandlersFinished);
      if (wf.patched('purged-requests-unlisted'))
        wf.upsertSearchAttributes([{ key: requestStatusAttribute, value: PURGED_STATUS }]);
      const proof = proofRecordOf(recordOf(life.request), nowIso());
      wf.setHandler(getRequestQuery, () => snapshotOfProof(proof));
      wf.upsertMemo({ [REQUEST_MEMO]: undefined, [PROOF_MEMO]: proof });
      return proof;
    },
  };
}
