import * as wf from '@temporalio/workflow';
import type { LetheActivities as Activities } from '../activities';
import {
  INTEGRATION_FAILURE_TYPE,
  type IntegrationFailureDetails,
  type OperatorNoticeInput,
} from '../activities/contracts';
import { ApiCalls, outcomeOfCall, SUBMITTED, type CallFailure } from '../domain/api-calls';
import { parseDuration } from '../domain/duration';
import { isIntegrationErrorMessage } from '../domain/errors';
import type { ApiIntegrationConfig, DirectContactIntegrationConfig } from '../domain/integration-config';
import type { PhaseOutcome, PhaseStatus } from '../domain/integration-state';
import { ownerAnswerOutcome } from '../domain/owner-answer';
import { statusOnStart } from '../domain/privacy-request';
import type { IntegrationCommand, IntegrationEnd, IntegrationTask } from '../domain/request-lifecycle';
import { connectorTaskQueue, integrationCommandSignal, phaseReportSignal } from './definitions';

export type IntegrationWorkflowInput = IntegrationTask;
export type IntegrationWorkflowResult = IntegrationEnd;

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
  const mailbox = openMailbox(input);
  const { report, next } = mailbox;

  if (input.integration.start === 'manual') {
    await report({ kind: 'pending', reason: 'manual_start' });
    if ((await next('start', 'stop')).command === 'stop') return STOPPED;
  }

  const { integration } = input;
  // A disconnected integration is not called (nor its owner emailed): it waits for an operator.
  // Its configuration is the one the request started with, so a retry finds it disconnected again.
  while (integration.disconnected) {
    await report({ kind: 'error', message: 'Disconnected integration', at: new Date().toISOString() });
    await mailbox.tellOperators('disconnected');
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

/** Opens the integration's mailbox: the request's commands are queued in it as they arrive. */
function openMailbox(input: IntegrationWorkflowInput): Mailbox {
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
  /** Every change this workflow observes goes to the request's, which owns what is shown. */
  const report = async (status: PhaseStatus) => {
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
  return { has, next, report, tellOperators, unlessStopped };
}

interface Failure extends CallFailure {
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
  const connectorActivities = connectorActivitiesOf(integration);
  const calls = new ApiCalls(integration.retry, Date.now());
  const call = () => {
    const { attempt, job } = calls.next();
    const callInput = { requestId, phase, integration, subject, attempt, accessRef };
    return job
      ? connectorActivities.pollConnector({ ...callInput, job })
      : connectorActivities.callConnector(callInput);
  };
  /** Whether an operator stops the integration within `ms`. */
  const stoppedWithin = (ms: number) => wf.condition(() => mailbox.has('stop'), ms);
  /** One call or poll: the integration's end, a poll to come, or a failure. */
  const callOnce = async (): Promise<{ end: IntegrationWorkflowResult } | { pollInMs: number } | Failure> => {
    try {
      const result = await mailbox.unlessStopped(call);
      if (result === 'stopped') return { end: STOPPED };
      const answer = result.value;
      if (answer.done)
        return { end: complete(outcomeOfCall(phase, integration.deletion, answer), answer.ref) };
      const pending = calls.pending(answer, Date.now());
      if (pending.recovered) await mailbox.report(SUBMITTED);
      return 'pollInMs' in pending ? pending : pending.gaveUp;
    } catch (error) {
      return failureOf(error);
    }
  };

  if (!alreadyShownSubmitted(input)) await mailbox.report(SUBMITTED);
  for (;;) {
    const called = await callOnce();
    if ('end' in called) return called.end;
    if ('pollInMs' in called) {
      if (await stoppedWithin(called.pollInMs)) return STOPPED;
      continue;
    }
    if (called.interrupted) continue;
    const next = calls.failed(called, Date.now(), new Date().toISOString());
    await mailbox.report(next.status);
    if (next.retryInMs !== undefined) {
      if (await stoppedWithin(next.retryInMs)) return STOPPED;
      continue;
    }
    if (next.tellOperators) await mailbox.tellOperators('disconnected');
    if ((await mailbox.next('retry', 'stop')).command === 'stop') return STOPPED;
    await mailbox.report(calls.retried(Date.now()));
  }
}

/**
 * Whether the request already shows this integration submitted, so its first report need not say
 * so: it showed it as it started this workflow (`shownOnStart`); integrations started before it
 * passed that knew it by a patch marker, and replay as they ran.
 */
function alreadyShownSubmitted(input: IntegrationWorkflowInput & { integration: ApiIntegrationConfig }) {
  if (input.shownOnStart !== undefined) return input.shownOnStart.kind === 'submitted';
  return statusOnStart(input.integration).kind === 'submitted' && wf.patched('request-shows-submitted');
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
