import * as wf from '@temporalio/workflow';
import type { LetheActivities as Activities } from '../activities';
import {
  INTEGRATION_FAILURE_TYPE,
  type ConnectorStep,
  type IntegrationFailureDetails,
  type OperatorNoticeInput,
} from '../activities/contracts';
import { ownerAnswerOutcome } from '../domain/decisions';
import { parseDuration } from '../domain/duration';
import { nextAttemptDelay, retryPolicyOf } from '../domain/retry';
import { isIntegrationErrorMessage, type IntegrationErrorMessage } from '../domain/errors';
import type {
  ApiIntegrationConfig,
  DirectContactIntegrationConfig,
  IntegrationConfig,
} from '../domain/integration-config';
import type { PhaseOutcome, PhaseStatus } from '../domain/integration-state';
import { statusOnStart } from '../domain/privacy-request';
import type { Phase, RequestType, Subject } from '../domain/request';
import {
  connectorTaskQueue,
  integrationCommandSignal,
  phaseReportSignal,
  type IntegrationCommand,
} from './definitions';

export interface IntegrationWorkflowInput {
  requestId: string;
  requestType: RequestType;
  phase: Phase;
  subject: Subject;
  integration: IntegrationConfig;
  /** Deletion phase: where the access phase left the records it found. */
  accessRef?: string;
  /** Told, once, when the integration turns out to be disconnected. */
  operatorsEmail?: string;
  /**
   * What the request's workflow shows for the integration as it starts this one (statusOnStart),
   * which need not be reported again. Absent from integrations started before the request showed it.
   */
  shownOnStart?: PhaseStatus;
}

export interface IntegrationWorkflowResult {
  status: { kind: 'complete'; outcome: PhaseOutcome };
  /** Access phase of an API integration: the blob holding the records found. */
  ref?: string;
}

type CommandName = IntegrationCommand['command'];

const complete = (outcome: PhaseOutcome, ref?: string): IntegrationWorkflowResult =>
  ref === undefined
    ? { status: { kind: 'complete', outcome } }
    : { status: { kind: 'complete', outcome }, ref };

const STOPPED = complete({ kind: 'stopped' });

/**
 * One integration in one phase of one request: ask the system (API) or its owner (direct contact),
 * wait as long as it takes, and report every change of state to the request's workflow.
 */
export async function IntegrationWorkflow(
  input: IntegrationWorkflowInput,
): Promise<IntegrationWorkflowResult> {
  const inbox: IntegrationCommand[] = [];
  wf.setHandler(integrationCommandSignal, (command) => void inbox.push(command));

  const has = (...names: CommandName[]) => inbox.some((c) => names.includes(c.command));
  /** The first of `names` that has arrived wins: an owner's answer beats a phase closing at the same moment. */
  const next = async (...names: CommandName[]): Promise<IntegrationCommand> => {
    await wf.condition(() => has(...names));
    const name = names.find((n) => has(n)) as CommandName;
    return inbox.splice(
      inbox.findIndex((c) => c.command === name),
      1,
    )[0] as IntegrationCommand;
  };

  const requestHandle = wf.getExternalWorkflowHandle(input.requestId);
  /**
   * What the request's workflow shows for this integration, as far as this one knows: not said
   * again. Integrations started before the request passed `shownOnStart` say everything, as they did.
   */
  let shown = JSON.stringify(input.shownOnStart);
  const report = async (status: PhaseStatus) => {
    const said = JSON.stringify(status);
    if (input.shownOnStart !== undefined && said === shown) return;
    shown = said;
    await requestHandle.signal(phaseReportSignal, {
      integrationId: input.integration.id,
      phase: input.phase,
      status,
    });
  };

  const operatorsTold = new Set<OperatorNoticeInput['reason']>();
  const tellOperators = async (reason: OperatorNoticeInput['reason']) => {
    if (operatorsTold.has(reason) || !input.operatorsEmail) return;
    operatorsTold.add(reason);
    const { requestId, phase, integration } = input;
    try {
      await mailActivities.notifyOperators({
        to: input.operatorsEmail,
        requestId,
        phase,
        integrationId: integration.id,
        integrationName: integration.name,
        reason,
      });
    } catch {
      // The integration shows its error whether or not the notice went out.
    }
  };
  // One scope for the workflow's whole life, cancelled when a stop arrives: cheaper than a scope
  // and a race per call (every integration makes at least one), and the commands are the same.
  let stoppable: wf.CancellationScope | undefined;
  const unlessStopped = async <T>(work: () => Promise<T>): Promise<{ value: T } | 'stopped'> => {
    if (!stoppable) {
      const scope = (stoppable = new wf.CancellationScope());
      // Cancelled from outside (the Web UI), the wait itself fails: there is no stop to carry then.
      void wf
        .condition(() => has('stop'))
        .then(
          () => scope.cancel(),
          () => undefined,
        );
    }
    try {
      return { value: await stoppable.run(work) };
    } catch (error) {
      if (wf.isCancellation(error) && has('stop')) return 'stopped';
      throw error;
    }
  };
  const mailbox: Mailbox = { has, next, report, tellOperators, unlessStopped };

  if (input.integration.start === 'manual') {
    await report({ kind: 'pending', reason: 'manual_start' });
    if ((await next('start', 'stop')).command === 'stop') return STOPPED;
  }

  const { integration } = input;
  // A disconnected integration is not called (nor its owner emailed): it waits for an operator.
  // Its configuration is the one the request started with, so a retry finds it disconnected again.
  while (integration.disconnected) {
    await report({ kind: 'error', message: 'Disconnected integration', at: new Date().toISOString() });
    await tellOperators('disconnected');
    if ((await next('retry', 'stop')).command === 'stop') return STOPPED;
  }
  return integration.type === 'api'
    ? runApiIntegration({ ...input, integration }, mailbox)
    : runDirectContact({ ...input, integration }, mailbox);
}

/** What an integration's workflow hears from the request's (commands) and says back (reports, notices). */
interface Mailbox {
  has(...names: CommandName[]): boolean;
  next(...names: CommandName[]): Promise<IntegrationCommand>;
  report(status: PhaseStatus): Promise<void>;
  /** Once per reason: operators are not flooded by a loop of retries. */
  tellOperators(reason: OperatorNoticeInput['reason']): Promise<void>;
  /** Runs `work` unless an operator stops the integration first; then the work is cancelled. */
  unlessStopped<T>(work: () => Promise<T>): Promise<{ value: T } | 'stopped'>;
}

interface Failure {
  message: IntegrationErrorMessage;
  retryable: boolean;
  retryAfterMs?: number;
  /** The worker shut down mid-call: not the service's failure, so not counted against it. */
  interrupted?: boolean;
}

/** What an activity's failure means for the integration: the taxonomy's message, and whether to try again. */
function failureOf(error: unknown): Failure {
  const cause = error instanceof wf.ActivityFailure ? error.cause : error;
  if (cause instanceof wf.ApplicationFailure && cause.type === INTEGRATION_FAILURE_TYPE) {
    const details = (cause.details?.[0] ?? { retryable: false }) as IntegrationFailureDetails;
    const message = isIntegrationErrorMessage(cause.message) ? cause.message : 'Lethe error';
    return { message, retryable: details.retryable, retryAfterMs: details.retryAfterMs };
  }
  // A worker shut down mid-call (the SDK reports it as a WorkerShutdown failure), or was lost (its
  // heartbeats stopped): the next attempt resumes where this one was. A lost worker counts, against
  // a call that kills workers.
  if (cause instanceof wf.ApplicationFailure && cause.type === 'WorkerShutdown') {
    return { message: 'Lethe error', retryable: true, interrupted: true };
  }
  if (cause instanceof wf.TimeoutFailure) return { message: 'Lethe error', retryable: true };
  return { message: 'Lethe error', retryable: false };
}

/**
 * One try per activity: the workflow itself waits between attempts (durable timers), so the
 * integration can show which attempt runs and what failed last, and a stop interrupts the wait.
 */
function connectorActivitiesOf(integration: ApiIntegrationConfig) {
  return wf.proxyActivities<Activities>({
    startToCloseTimeout: '30 minutes',
    // Attempts heartbeat every 2 s: a lost worker's call is run again within 15 s.
    heartbeatTimeout: '15 seconds',
    retry: { maximumAttempts: 1 },
    // A rate-limited integration's calls queue up on its own task queue, so others are not held back.
    ...(integration.rate_limit ? { taskQueue: connectorTaskQueue(integration.id) } : {}),
  });
}

async function runApiIntegration(
  input: IntegrationWorkflowInput & { integration: ApiIntegrationConfig },
  mailbox: Mailbox,
): Promise<IntegrationWorkflowResult> {
  const { integration, requestId, subject, phase, accessRef } = input;
  const policy = retryPolicyOf(integration.retry);
  const connectorActivities = connectorActivitiesOf(integration);
  /** A job the service accepted: polled, never submitted again (a new worker picks it up from here). */
  let job: { id: string; since: number } | undefined;
  const call = (attempt: number): Promise<ConnectorStep> => {
    const callInput = { requestId, phase, integration, subject, attempt, accessRef };
    return job
      ? connectorActivities.pollConnector({ ...callInput, job: job.id })
      : connectorActivities.callConnector(callInput);
  };
  const done = ({ count, ref }: { count: number | null; ref?: string }): IntegrationWorkflowResult => {
    if (phase === 'access') return complete({ kind: 'records_found', count: count ?? 0 }, ref);
    if (integration.deletion === 'full' || count === null) return complete({ kind: 'deletion_done' });
    return complete({ kind: 'records_deleted', count });
  };

  /** Every call, numbered for the call log. */
  let attempt = 0;
  /** Transient failures in a row, which the retry policy bounds; a call that succeeds ends the streak. */
  let streak = { failures: 0, since: Date.now() };
  // Integrations started before the request passed `shownOnStart` knew by a patch marker whether
  // it showed them submitted: they replay as they ran.
  const shownByMarker =
    input.shownOnStart === undefined &&
    statusOnStart(integration).kind === 'submitted' &&
    wf.patched('request-shows-submitted');
  if (!shownByMarker) await mailbox.report({ kind: 'submitted' });
  for (;;) {
    let failure: Failure;
    try {
      attempt += 1;
      const result = await mailbox.unlessStopped(() => call(attempt));
      if (result === 'stopped') return STOPPED;
      const step = result.value;
      if (step.done) return done(step);
      if (streak.failures > 0) await mailbox.report({ kind: 'submitted' });
      streak = { failures: 0, since: Date.now() };
      // A job the service lost and Lethe submitted again is waited for from now.
      if (job?.id !== step.job) job = { id: step.job, since: Date.now() };
      if (Date.now() - job.since < step.giveUpAfterMs) {
        if (await wf.condition(() => mailbox.has('stop'), step.pollEveryMs)) return STOPPED;
        continue;
      }
      // The service never finished the job: an operator may retry (polling it again) or stop.
      job.since = Date.now();
      failure = { message: 'Request timeout', retryable: false };
    } catch (error) {
      failure = failureOf(error);
      if (failure.interrupted) continue;
    }
    streak.failures += 1;
    const delay = failure.retryable
      ? nextAttemptDelay(policy, streak.failures, Date.now() - streak.since, failure.retryAfterMs)
      : undefined;
    if (delay !== undefined) {
      await mailbox.report({ kind: 'submitted', attempt: streak.failures + 1, lastError: failure.message });
      if (await wf.condition(() => mailbox.has('stop'), delay)) return STOPPED;
      continue;
    }
    await mailbox.report({ kind: 'error', message: failure.message, at: new Date().toISOString() });
    if (failure.message === 'Disconnected integration') await mailbox.tellOperators('disconnected');
    if ((await mailbox.next('retry', 'stop')).command === 'stop') return STOPPED;
    streak = { failures: 0, since: Date.now() };
    await mailbox.report({ kind: 'submitted' });
  }
}

const mailActivities = wf.proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 20 },
});

async function runDirectContact(
  input: IntegrationWorkflowInput & { integration: DirectContactIntegrationConfig },
  mailbox: Mailbox,
): Promise<IntegrationWorkflowResult> {
  const { integration } = input;
  const deadlineMs = Date.now() + parseDuration(integration.deadline);
  const deadline = new Date(deadlineMs).toISOString();
  // Each round of asking (the first email; again after an operator's retry) has a link of its own,
  // which its reminder repeats, so a retry leaves the earlier round's link dead. Rounds of workflows
  // that started before rounds had ids keep links without one.
  const roundsHaveIds = wf.patched('owner-link-rounds');
  const newRound = () => {
    const linkId = roundsHaveIds ? { linkId: wf.uuid4() } : {};
    return {
      ownerRequest: {
        requestId: input.requestId,
        requestType: input.requestType,
        phase: input.phase,
        integration,
        subject: input.subject,
        deadline,
        ...linkId,
      },
      awaiting: {
        kind: 'awaiting_owner',
        deadline,
        onNoResponse: integration.on_no_response,
        ...linkId,
      } as const,
    };
  };
  let { ownerRequest, awaiting } = newRound();
  for (;;) {
    // Shown as waiting before the email leaves, so an owner who answers at once is heard.
    await mailbox.report({ ...awaiting, overdue: false });
    try {
      if ((await mailbox.unlessStopped(() => mailActivities.sendOwnerRequest(ownerRequest))) === 'stopped') {
        return STOPPED;
      }
      break;
    } catch (error) {
      await mailbox.report({
        kind: 'error',
        message: failureOf(error).message,
        at: new Date().toISOString(),
      });
      if ((await mailbox.next('retry', 'stop')).command === 'stop') return STOPPED;
      ({ ownerRequest, awaiting } = newRound());
    }
  }

  const answered = () => mailbox.has('owner_reply', 'stop', 'close_phase');
  const reminderMs = deadlineMs - parseDuration(integration.remind_before);
  if (reminderMs > Date.now() && !(await wf.condition(answered, reminderMs - Date.now()))) {
    try {
      await mailActivities.sendOwnerRequest({ ...ownerRequest, reminder: true });
    } catch {
      // A reminder that cannot be sent does not change what the owner was asked, nor by when.
    }
  }
  const answeredInTime = await wf.condition(answered, Math.max(0, deadlineMs - Date.now()));
  if (!answeredInTime) {
    await mailbox.report({ ...awaiting, overdue: true });
    if (integration.on_no_response === 'pause') await mailbox.tellOperators('paused');
  }

  const command = await mailbox.next('owner_reply', 'stop', 'skip', 'close_phase');
  if (command.command === 'owner_reply') {
    const outcome = ownerAnswerOutcome(input.phase, command.answer);
    if (outcome) return complete(outcome);
  }
  if (command.command === 'stop') return STOPPED;
  return complete({ kind: 'skipped_no_response' });
}
