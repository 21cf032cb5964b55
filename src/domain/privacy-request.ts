import type { StoredFile } from './owner-answer';
import type { IntegrationConfig } from './integration-config';
import {
  dataFound,
  isComplete,
  isPausing,
  isSettled,
  type PhaseOutcome,
  type PhaseStatus,
} from './integration-state';
import {
  dueDate,
  hasDeletionPhase,
  PHASES,
  requestState,
  type Phase,
  type Regulation,
  type RequestState,
  type RequestStep,
  type RequestType,
  type Subject,
  type TriggerType,
} from './request';

/** What the API hands to `PrivacyRequestWorkflow`: the request keeps the configuration it started with. */
export interface PrivacyRequestInput {
  id: string;
  type: RequestType;
  regulation: Regulation;
  /** ISO 8601 UTC. */
  requestDate: string;
  triggerType: TriggerType;
  autoProcess: boolean;
  subject: Subject;
  integrations: IntegrationConfig[];
  operatorsEmail?: string;
  /** How long the request's data is kept after it closes (a duration: "30d"); absent from requests started before retention existed. */
  retention?: string;
}

export const INTEGRATION_ACTIONS = ['start', 'stop', 'skip', 'retry'] as const;
export type IntegrationAction = (typeof INTEGRATION_ACTIONS)[number];

export interface ActionRecord {
  at: string;
  /** The API key that acted (its fingerprint), which the caller cannot choose. */
  actor: string;
  /** Who the caller says acted, e.g. an operator's email; informative only. */
  by: string | null;
  action: IntegrationAction;
  phase: Phase;
}

export interface IntegrationSnapshot {
  id: string;
  name: string;
  type: IntegrationConfig['type'];
  stage: number;
  access: PhaseStatus;
  deletion: PhaseStatus | null;
  history: ActionRecord[];
  /** What the owner uploaded in answer to an access request. */
  uploads: StoredFile[];
}

/** The whole request, as `PrivacyRequestWorkflow` holds it and its query returns it. */
export interface RequestSnapshot {
  id: string;
  type: RequestType;
  regulation: Regulation;
  requestDate: string;
  dueDate: string;
  triggerType: TriggerType;
  autoProcess: boolean;
  step: RequestStep;
  closedAt: string | null;
  selection: string[] | null;
  integrations: IntegrationSnapshot[];
  /** Who the request is about: shown to owners who must search their systems, never in the API's view. */
  subject: Subject;
  /** The package sent to the subject (access types), once the request is sent. */
  export: { ref: string; at: string } | null;
  /** When the retention period ended and the request's data was deleted; the request is gone then. */
  purgedAt: string | null;
  /** Why the request closed before it ran its course; absent while it runs, and when it did. */
  closedEarly?: ClosedEarly;
}

/**
 * The request without personal data: without whom it is about, and of the owners' uploads only
 * how many (their names may be personal). What its workflow publishes in its memo and ends with;
 * an owner's page, which shows the subject, asks the workflow.
 */
export interface RequestRecord extends Omit<RequestSnapshot, 'subject' | 'integrations'> {
  integrations: IntegrationRecord[];
}

export interface IntegrationRecord extends Omit<IntegrationSnapshot, 'uploads'> {
  uploads: number;
}

export function recordOf(snapshot: RequestSnapshot): RequestRecord {
  const { subject, integrations, ...request } = snapshot;
  void subject;
  return { ...request, integrations: integrations.map((i) => ({ ...i, uploads: i.uploads.length })) };
}

/** A record read back as a snapshot, for the views that present snapshots (none shows the subject or the uploads). */
export function snapshotOfRecord(record: RequestRecord): RequestSnapshot {
  return { ...record, subject: {}, integrations: record.integrations.map((i) => ({ ...i, uploads: [] })) };
}

/**
 * `cancelled`: its workflow was cancelled from outside Lethe (the Temporal Web UI, the CLI).
 * `export_failed`: the package for the subject could not be built, however often it was tried.
 */
export interface ClosedEarly {
  cause: 'cancelled' | 'export_failed';
  at: string;
  /** Where it was when it closed: what its state still shows. */
  step: RequestStep;
}

function initialAccessStatus(config: IntegrationConfig, type: RequestType): PhaseStatus {
  if (config.deletion === 'full' && hasDeletionPhase(type) && config.access) return { kind: 'no_extraction' };
  return config.stage > 1 ? { kind: 'later_stage' } : { kind: 'not_started' };
}

function initialDeletionStatus(config: IntegrationConfig): PhaseStatus {
  if (config.deletion === 'full') return { kind: 'no_extraction' };
  return config.stage > 1 ? { kind: 'later_stage' } : { kind: 'not_started' };
}

export function newRequestSnapshot(input: PrivacyRequestInput): RequestSnapshot {
  return {
    id: input.id,
    type: input.type,
    regulation: input.regulation,
    requestDate: input.requestDate,
    dueDate: dueDate(new Date(input.requestDate), input.regulation).toISOString(),
    triggerType: input.triggerType,
    autoProcess: input.autoProcess,
    step: 'accessing',
    closedAt: null,
    selection: null,
    integrations: input.integrations.map((config) => ({
      id: config.id,
      name: config.name,
      type: config.type,
      stage: config.stage,
      access: initialAccessStatus(config, input.type),
      deletion: hasDeletionPhase(input.type) ? initialDeletionStatus(config) : null,
      history: [],
      uploads: [],
    })),
    subject: input.subject,
    export: null,
    purgedAt: null,
  };
}

/** The stages of a request in the order they run. */
export function stagesOf(integrations: readonly { stage: number }[]): number[] {
  return [...new Set(integrations.map((i) => i.stage))].sort((a, b) => a - b);
}

export type PhasePlan = { run: true } | { run: false; outcome: PhaseOutcome };

/**
 * What an integration shows as its workflow starts. An API integration that starts by itself is
 * submitted at once: the request's workflow shows it, so the integration's need not report it
 * (one message fewer per integration and phase, at every request's scale).
 */
export function statusOnStart(config: IntegrationConfig): PhaseStatus {
  return config.type === 'api' && config.start === 'auto' && !config.disconnected
    ? { kind: 'submitted' }
    : { kind: 'not_started' };
}

/** Whether an integration's access phase needs a workflow, or is decided by its configuration. */
export function planAccess(config: IntegrationConfig, type: RequestType): PhasePlan {
  if (!config.access) return { run: false, outcome: { kind: 'access_skipped' } };
  // Whole-record deletion needs no extraction; an access request still looks.
  if (config.deletion === 'full' && hasDeletionPhase(type))
    return { run: false, outcome: { kind: 'full_deletion' } };
  return { run: true };
}

/** Whether an integration's deletion phase needs a workflow, given what access found and what was selected. */
export function planDeletion(config: IntegrationConfig, access: PhaseStatus, selected: boolean): PhasePlan {
  if (config.deletion === 'skip' || !selected) return { run: false, outcome: { kind: 'deletion_skipped' } };
  if (config.type === 'api' && config.deletion === 'records' && dataFound(access) === 0) {
    return { run: false, outcome: { kind: 'records_deleted', count: 0 } };
  }
  return { run: true };
}

export function integrationById(snapshot: RequestSnapshot, id: string): IntegrationSnapshot | undefined {
  return snapshot.integrations.find((i) => i.id === id);
}

export function phaseStatus(integration: IntegrationSnapshot, phase: Phase): PhaseStatus | null {
  return phase === 'access' ? integration.access : integration.deletion;
}

export function setPhaseStatus(integration: IntegrationSnapshot, phase: Phase, status: PhaseStatus): void {
  if (phase === 'access') integration.access = status;
  else integration.deletion = status;
}

/**
 * A report from an integration's workflow. Once a phase is complete it stays so: a late report
 * (a child that had not yet seen the operator's stop) must not reopen it.
 */
export function applyPhaseReport(
  snapshot: RequestSnapshot,
  integrationId: string,
  phase: Phase,
  status: PhaseStatus,
) {
  const integration = integrationById(snapshot, integrationId);
  if (!integration) return;
  const current = phaseStatus(integration, phase);
  if (current === null || isComplete(current)) return;
  setPhaseStatus(integration, phase, status);
}

/** The phase operators act on now, if any. */
export function activePhase(snapshot: RequestSnapshot): Phase | null {
  if (snapshot.step === 'accessing') return 'access';
  if (snapshot.step === 'deleting') return 'deletion';
  return null;
}

export function isPhaseSettled(snapshot: RequestSnapshot, phase: Phase, stage?: number): boolean {
  return snapshot.integrations
    .filter((i) => stage === undefined || i.stage === stage)
    .every((i) => {
      const status = phaseStatus(i, phase);
      return status === null || isSettled(status);
    });
}

export function isPaused(snapshot: RequestSnapshot, now: Date): boolean {
  return pausingIntegrations(snapshot, now).length > 0;
}

export function pausingIntegrations(snapshot: RequestSnapshot, now: Date): IntegrationSnapshot[] {
  const phase = activePhase(snapshot);
  if (phase === null) return [];
  return snapshot.integrations.filter((i) => {
    const status = phaseStatus(i, phase);
    return status !== null && isPausing(status, now);
  });
}

/** After the access phase, deletion statuses that were waiting become `Pending` until the selection. */
export function markAwaitingSelection(snapshot: RequestSnapshot): void {
  snapshot.step = 'awaiting_selection';
  for (const integration of snapshot.integrations) {
    if (integration.deletion?.kind === 'not_started') {
      integration.deletion = { kind: 'pending', reason: 'awaiting_selection' };
    }
  }
}

/** `auto_process` takes everything found. */
export function automaticSelection(snapshot: RequestSnapshot): string[] {
  return snapshot.integrations.map((i) => i.id);
}

/**
 * Closes a request that cannot run its course: nothing of it goes on, so every integration that
 * had not completed a phase shows it stopped; the request keeps the state it had reached.
 */
export function closeEarly(snapshot: RequestSnapshot, cause: ClosedEarly['cause'], at: string): void {
  for (const integration of snapshot.integrations) {
    for (const phase of PHASES) {
      const status = phaseStatus(integration, phase);
      if (status !== null && !isComplete(status)) {
        setPhaseStatus(integration, phase, { kind: 'complete', outcome: { kind: 'stopped' } });
      }
    }
  }
  snapshot.closedEarly = { cause, at, step: snapshot.step };
  snapshot.closedAt ??= at;
  snapshot.step = 'closed';
}

/** The request's state summary; one that closed early shows the state it had reached (never "Data deleted" untrue). */
export function shownState(snapshot: RequestSnapshot): RequestState {
  return requestState(snapshot.type, snapshot.closedEarly?.step ?? snapshot.step);
}

/** `"user not found"`: the request is closed, something looked, and nothing found anything. */
export function userNotFound(snapshot: RequestSnapshot): boolean {
  if (snapshot.step !== 'closed' || snapshot.closedEarly) return false;
  const counts = snapshot.integrations.map((i) => dataFound(i.access)).filter((c) => c !== undefined);
  return counts.length > 0 && counts.every((c) => c === 0);
}
