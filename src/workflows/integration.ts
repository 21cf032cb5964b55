import * as wf from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { type FindRecordsResult, INTEGRATION_FAILURE_TYPE } from '../activities/contracts';
import { ownerAnswerOutcome } from '../domain/decisions';
import { parseDuration } from '../domain/duration';
import { isIntegrationErrorMessage, type IntegrationErrorMessage } from '../domain/errors';
import type {
  ApiIntegrationConfig,
  DirectContactIntegrationConfig,
  IntegrationConfig,
} from '../domain/integration-config';
import type { PhaseOutcome, PhaseStatus } from '../domain/integration-state';
import type { Phase, RequestType, Subject } from '../domain/request';
import { integrationCommandSignal, phaseReportSignal, type IntegrationCommand } from './definitions';

type Activities = ReturnType<typeof createActivities>;

export interface IntegrationWorkflowInput {
  requestId: string;
  requestType: RequestType;
  phase: Phase;
  subject: Subject;
  integration: IntegrationConfig;
  /** Deletion phase: where the access phase left the records it found. */
  accessRef?: string;
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
  const report = (status: PhaseStatus) =>
    requestHandle.signal(phaseReportSignal, {
      integrationId: input.integration.id,
      phase: input.phase,
      status,
    });

  if (input.integration.start === 'manual') {
    await report({ kind: 'pending', reason: 'manual_start' });
    if ((await next('start', 'stop')).command === 'stop') return STOPPED;
  }

  const { integration } = input;
  // A disconnected integration is not called (nor its owner emailed): it waits for an operator.
  // Its configuration is the one the request started with, so a retry finds it disconnected again.
  while (integration.disconnected) {
    await report({ kind: 'error', message: 'Disconnected integration', at: new Date().toISOString() });
    if ((await next('retry', 'stop')).command === 'stop') return STOPPED;
  }
  return integration.type === 'api'
    ? runApiIntegration({ ...input, integration }, { has, next, report })
    : runDirectContact({ ...input, integration }, { has, next, report });
}

interface Mailbox {
  has(...names: CommandName[]): boolean;
  next(...names: CommandName[]): Promise<IntegrationCommand>;
  report(status: PhaseStatus): Promise<void>;
}

/** Runs `work` unless an operator stops the integration first; then the work is cancelled. */
async function unlessStopped<T>(mailbox: Mailbox, work: () => Promise<T>): Promise<{ value: T } | 'stopped'> {
  const scope = new wf.CancellationScope();
  const working = scope.run(work);
  const stopped = wf.condition(() => mailbox.has('stop')).then(() => 'stopped' as const);
  const winner = await Promise.race([working.then((value) => ({ value })), stopped]);
  if (winner === 'stopped') {
    scope.cancel();
    working.catch(() => undefined);
  }
  return winner;
}

function failureMessage(error: unknown): IntegrationErrorMessage {
  const cause = error instanceof wf.ActivityFailure ? error.cause : error;
  if (cause instanceof wf.ApplicationFailure && cause.type === INTEGRATION_FAILURE_TYPE) {
    return isIntegrationErrorMessage(cause.message) ? cause.message : 'Lethe error';
  }
  return 'Lethe error';
}

function connectorActivities(integration: ApiIntegrationConfig): Activities {
  const { retry } = integration;
  return wf.proxyActivities<Activities>({
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '5 minutes',
    retry: {
      initialInterval: parseDuration(retry.initial_interval),
      maximumInterval: parseDuration(retry.max_interval),
      backoffCoefficient: 2,
      maximumAttempts: retry.max_attempts,
    },
  });
}

async function runApiIntegration(
  input: IntegrationWorkflowInput & { integration: ApiIntegrationConfig },
  mailbox: Mailbox,
): Promise<IntegrationWorkflowResult> {
  const { integration, requestId, subject } = input;
  const activities = connectorActivities(integration);
  const call = async (): Promise<IntegrationWorkflowResult> => {
    if (input.phase === 'access') {
      const found: FindRecordsResult = await activities.findRecords({ requestId, integration, subject });
      return complete({ kind: 'records_found', count: found.count }, found.ref);
    }
    const deleted = await activities.deleteRecords({
      requestId,
      integration,
      subject,
      accessRef: input.accessRef,
    });
    return complete(
      integration.deletion === 'full'
        ? { kind: 'deletion_done' }
        : { kind: 'records_deleted', count: deleted.count },
    );
  };

  for (;;) {
    await mailbox.report({ kind: 'submitted' });
    let message: IntegrationErrorMessage;
    try {
      const result = await unlessStopped(mailbox, call);
      return result === 'stopped' ? STOPPED : result.value;
    } catch (error) {
      message = failureMessage(error);
    }
    await mailbox.report({ kind: 'error', message, at: new Date().toISOString() });
    if ((await mailbox.next('retry', 'stop')).command === 'stop') return STOPPED;
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
  const ownerRequest = {
    requestId: input.requestId,
    requestType: input.requestType,
    phase: input.phase,
    integration,
    subject: input.subject,
    deadline,
  };
  for (;;) {
    try {
      if ((await unlessStopped(mailbox, () => mailActivities.sendOwnerRequest(ownerRequest))) === 'stopped') {
        return STOPPED;
      }
      break;
    } catch (error) {
      await mailbox.report({ kind: 'error', message: failureMessage(error), at: new Date().toISOString() });
      if ((await mailbox.next('retry', 'stop')).command === 'stop') return STOPPED;
    }
  }

  const awaiting = { kind: 'awaiting_owner', deadline, onNoResponse: integration.on_no_response } as const;
  await mailbox.report({ ...awaiting, overdue: false });
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
  if (!answeredInTime) await mailbox.report({ ...awaiting, overdue: true });

  const command = await mailbox.next('owner_reply', 'stop', 'skip', 'close_phase');
  if (command.command === 'owner_reply') {
    const outcome = ownerAnswerOutcome(input.phase, command.answer);
    if (outcome) return complete(outcome);
  }
  if (command.command === 'stop') return STOPPED;
  return complete({ kind: 'skipped_no_response' });
}
