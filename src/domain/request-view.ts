/** The request as the HTTP API shows it (contract section 5), computed from the workflow's snapshot. */
import { describePhase, type IntegrationState, type PhaseStatus } from './integration-state';
import {
  isPaused,
  pausingIntegrations,
  shownState,
  userNotFound,
  type ActionRecord,
  type IntegrationSnapshot,
  type RequestSnapshot,
} from './privacy-request';
import {
  requestStatus,
  SUBJECT_IDENTIFIERS,
  type Phase,
  type RequestState,
  type RequestStatus,
} from './request';

export interface PhaseStateView {
  state: IntegrationState;
  detail: string | null;
  due_date?: string;
  attempt?: number;
  last_error?: string;
}

export interface IntegrationView {
  id: string;
  name: string;
  type: IntegrationSnapshot['type'];
  stage: number;
  access: PhaseStateView;
  deletion: PhaseStateView | null;
  error: { phase: Phase; message: string; at: string } | null;
  history: ActionRecord[];
}

export interface RequestView {
  id: string;
  type: RequestSnapshot['type'];
  regulation: RequestSnapshot['regulation'];
  request_date: string;
  due_date: string;
  trigger_type: RequestSnapshot['triggerType'];
  status: RequestStatus;
  state: RequestState;
  closed: boolean;
  closed_at: string | null;
  /** Why a closed request did not run its course; null when it did (or is still open). */
  closed_reason: string | null;
  paused: boolean;
  paused_reason: string | null;
  auto_process: boolean;
  selection: string[] | null;
  error: 'user not found' | null;
  data_url: string | null;
  /** When its retention period ended: its data is gone, and this view is all that remains. */
  purged_at: string | null;
  integrations: IntegrationView[];
}

function presentPhase(status: PhaseStatus, phase: Phase, now: Date): PhaseStateView {
  const view: PhaseStateView = describePhase(status, phase, now);
  if (status.kind === 'awaiting_owner') view.due_date = status.deadline;
  if (status.kind === 'submitted' && status.attempt !== undefined) {
    view.attempt = status.attempt;
    if (status.lastError) view.last_error = status.lastError;
  }
  return view;
}

function presentIntegration(integration: IntegrationSnapshot, now: Date): IntegrationView {
  const errored = (['access', 'deletion'] as const).find((phase) => {
    const status = phase === 'access' ? integration.access : integration.deletion;
    return status?.kind === 'error';
  });
  const errorStatus = errored && (errored === 'access' ? integration.access : integration.deletion);
  return {
    id: integration.id,
    name: integration.name,
    type: integration.type,
    stage: integration.stage,
    access: presentPhase(integration.access, 'access', now),
    deletion: integration.deletion && presentPhase(integration.deletion, 'deletion', now),
    error:
      errored && errorStatus?.kind === 'error'
        ? { phase: errored, message: errorStatus.message, at: errorStatus.at }
        : null,
    history: integration.history,
  };
}

function pausedReason(snapshot: RequestSnapshot, now: Date): string | null {
  const waiting = pausingIntegrations(snapshot, now);
  if (waiting.length === 0) return null;
  const names = waiting.map((i) => `"${i.name}"`).join(', ');
  return `No response from ${names} by the deadline: the owner can still answer, or an operator can skip or stop it`;
}

const CLOSED_EARLY_REASONS = {
  cancelled:
    'Cancelled in Temporal (the Web UI or the CLI): the integrations in flight were stopped, nothing more is done, and its data is deleted when its retention ends',
  export_failed:
    'The package for the subject could not be built, however often it was tried: nothing was sent, and its data is deleted when its retention ends',
} as const;

export function presentRequest(
  snapshot: RequestSnapshot,
  now: Date,
  dataUrl: string | null = null,
): RequestView {
  const closed = snapshot.step === 'closed';
  return {
    id: snapshot.id,
    type: snapshot.type,
    regulation: snapshot.regulation,
    request_date: snapshot.requestDate,
    due_date: snapshot.dueDate,
    trigger_type: snapshot.triggerType,
    status: requestStatus(snapshot.step),
    state: shownState(snapshot),
    closed,
    closed_at: snapshot.closedAt,
    closed_reason: snapshot.closedEarly ? CLOSED_EARLY_REASONS[snapshot.closedEarly.cause] : null,
    paused: isPaused(snapshot, now),
    paused_reason: pausedReason(snapshot, now),
    auto_process: snapshot.autoProcess,
    selection: snapshot.selection,
    error: userNotFound(snapshot) ? 'user not found' : null,
    data_url: dataUrl,
    purged_at: snapshot.purgedAt,
    integrations: snapshot.integrations.map((i) => presentIntegration(i, now)),
  };
}

/** What a system owner's page shows: the task, whom it is about, and whether an answer is still wanted. */
export interface OwnerTaskView {
  requestId: string;
  requestType: RequestSnapshot['type'];
  phase: Phase;
  integrationName: string;
  /** [label, value] for each identifier the request carries, the name first. */
  identifiers: [string, string][];
  deadline: string | null;
  /** Whether an answer through this link is wanted. */
  waiting: boolean;
  /** An answer is wanted, but through a newer link (an operator retried since this one was sent). */
  replaced: boolean;
  status: PhaseStateView | null;
}

/** `linkId`: the round of asking the owner's link belongs to. */
export function presentOwnerTask(
  snapshot: RequestSnapshot,
  integrationId: string,
  phase: Phase,
  now: Date,
  linkId?: string,
): OwnerTaskView | undefined {
  const integration = snapshot.integrations.find((i) => i.id === integrationId);
  if (!integration) return undefined;
  const status = phase === 'access' ? integration.access : integration.deletion;
  const { subject } = snapshot;
  const identifiers: [string, string][] = [
    ...(subject.name ? [['Name', subject.name] as [string, string]] : []),
    ...SUBJECT_IDENTIFIERS.flatMap((key) => {
      const value = subject[key];
      return value ? [[IDENTIFIER_LABELS[key], value] as [string, string]] : [];
    }),
  ];
  return {
    requestId: snapshot.id,
    requestType: snapshot.type,
    phase,
    integrationName: integration.name,
    identifiers,
    deadline: status?.kind === 'awaiting_owner' ? status.deadline : null,
    waiting: status?.kind === 'awaiting_owner' && status.linkId === linkId,
    replaced: status?.kind === 'awaiting_owner' && status.linkId !== linkId,
    status: status && presentPhase(status, phase, now),
  };
}

const IDENTIFIER_LABELS: Record<(typeof SUBJECT_IDENTIFIERS)[number], string> = {
  email: 'Email',
  phone: 'Phone',
  custom_id: 'Customer id',
  advertising_id: 'Advertising id',
};
