/**
 * The life of one privacy request as its workflow runs it: a state machine over the request's
 * snapshot. Every message the workflow accepts and every step of its body is one method here,
 * which says what may happen and what it changes; the workflow only wires messages, timers and
 * children to these methods. Pure: the workflow passes the time in.
 */
import {
  decideIntegrationAction,
  decideOwnerReply,
  decideSelection,
  statusAfterRetry,
  type Decision,
} from './decisions';
import type { IntegrationConfig } from './integration-config';
import { isComplete, type PhaseOutcome, type PhaseStatus } from './integration-state';
import type { OwnerAnswer } from './owner-answer';
import {
  applyPhaseReport,
  automaticSelection,
  closeEarly,
  integrationById,
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
  type IntegrationAction,
  type IntegrationSnapshot,
  type PrivacyRequestInput,
  type RequestSnapshot,
} from './privacy-request';
import {
  hasDeletionPhase,
  requestStatus,
  type Phase,
  type RequestState,
  type RequestStatus,
} from './request';

/** An operator's action on one integration, as the API sends it. */
export interface IntegrationActionInput {
  integrationId: string;
  action: IntegrationAction;
  /** The API key's fingerprint. */
  actor: string;
  /** Who the caller says acted (the body's `actor`). */
  by?: string;
}

/** A system owner's answer through their link. */
export interface OwnerReplyInput {
  integrationId: string;
  phase: Phase;
  answer: OwnerAnswer;
  /** The round of asking the owner's link belongs to; absent from links that carry none. */
  linkId?: string;
}

/** From an integration's workflow to its request's: the integration's state changed. */
export interface PhaseReport {
  integrationId: string;
  phase: Phase;
  status: PhaseStatus;
}

/** From a request's workflow to one integration's: what operators and the owner decided. */
export type IntegrationCommand =
  { command: IntegrationAction | 'close_phase' } | { command: 'owner_reply'; answer: OwnerAnswer };

/** A command for the workflow of one integration in one phase. */
export interface IntegrationOrder {
  integrationId: string;
  phase: Phase;
  command: IntegrationCommand;
}

/** What one integration's workflow is given: the request's configuration of it, as the request started. */
export interface IntegrationTask {
  requestId: string;
  requestType: PrivacyRequestInput['type'];
  phase: Phase;
  subject: PrivacyRequestInput['subject'];
  integration: IntegrationConfig;
  /** Deletion phase: where the access phase left the records it found. */
  accessRef?: string;
  /** Told, once, when the integration turns out to be disconnected. */
  operatorsEmail?: string;
  /**
   * What the request showed for the integration as it started this workflow (statusOnStart),
   * which the integration's workflow does not report again. Absent from integrations started
   * before the request showed it.
   */
  shownOnStart?: PhaseStatus;
}

/** How an integration's workflow ended: its phase's outcome, which the request applies unless it decided first. */
export interface IntegrationEnd {
  status: { kind: 'complete'; outcome: PhaseOutcome };
  /** Access phase of an API integration: the blob holding the records found. */
  ref?: string;
}

/** What the request shows outside its workflow: its search attributes (findable) and its memo (readable). */
export interface Publication {
  state: RequestState;
  status: RequestStatus;
}

/**
 * Who owns what: the request decides an integration's status when it starts its workflow, and
 * when an operator or an owner acts; the integration's workflow reports what it observes after
 * that, and ends with its outcome. A phase once complete stays so: a decision of the request
 * wins over a late report or result.
 */
export class RequestLifecycle {
  readonly request: RequestSnapshot;
  private readonly configs: ReadonlyMap<string, IntegrationConfig>;
  /** Integrations whose workflow runs now, in the active phase. */
  private readonly running = new Set<string>();
  /** Integrations whose workflow failed outright, and that an operator asked to run again. */
  private readonly relaunching = new Set<string>();
  /** Where each API integration's access phase left its records. */
  private readonly accessRefs = new Map<string, string>();
  /** Whether the request changed since it was last published, and whether its step did. */
  private unpublished = { request: false, step: false };
  /** Told of each change of step as it happens (how requests started before publications were taken showed their state). */
  private stepListener: ((publication: Publication) => void) | undefined;

  constructor(private readonly input: PrivacyRequestInput) {
    this.request = newRequestSnapshot(input);
    this.configs = new Map(input.integrations.map((c) => [c.id, c]));
  }

  // ---- Messages: each has a decision (the Update's validator) and what it changes once accepted.

  decideAction({ integrationId, action }: IntegrationActionInput, now: Date) {
    return decideIntegrationAction(this.request, integrationId, action, this.running.has(integrationId), now);
  }

  /**
   * An operator's action, recorded with who acted once accepted. A stop is final at once; a retry
   * shows the integration trying again. `tell`: the command for the integration's workflow when it
   * carries the action out; a retry of a workflow that failed outright starts a new one instead.
   */
  act(input: IntegrationActionInput, now: Date): Decision<{ tell?: IntegrationOrder }> {
    const decision = this.decideAction(input, now);
    if (!decision.accepted) return decision;
    const { integrationId, action } = input;
    const { phase } = decision;
    const integration = this.integration(integrationId);
    integration.history.push({
      at: now.toISOString(),
      actor: input.actor,
      by: input.by ?? null,
      action,
      phase,
    });
    if (action === 'stop')
      setPhaseStatus(integration, phase, { kind: 'complete', outcome: { kind: 'stopped' } });
    if (action === 'retry') setPhaseStatus(integration, phase, statusAfterRetry(integration.type));
    this.changed();
    if (decision.forward)
      return { accepted: true, tell: { integrationId, phase, command: { command: action } } };
    if (action === 'retry') this.relaunching.add(integrationId);
    return { accepted: true };
  }

  decideOwnerReply({ integrationId, phase, answer, linkId }: OwnerReplyInput) {
    return decideOwnerReply(this.request, integrationId, phase, answer, linkId);
  }

  /** An owner's answer, once accepted, completes the phase here; their integration's workflow is told. */
  answerOwner(reply: OwnerReplyInput): Decision<{ tell: IntegrationOrder }> {
    const decision = this.decideOwnerReply(reply);
    if (!decision.accepted) return decision;
    const { integrationId, phase, answer } = reply;
    applyPhaseReport(this.request, integrationId, phase, { kind: 'complete', outcome: decision.outcome });
    if (answer.answer === 'files') this.integration(integrationId).uploads.push(...answer.files);
    this.changed();
    return { accepted: true, tell: { integrationId, phase, command: { command: 'owner_reply', answer } } };
  }

  decideSelection(integrationIds: string[]): Decision<object> {
    return decideSelection(this.request, integrationIds);
  }

  select(integrationIds: string[]): Decision<object> {
    const decision = this.decideSelection(integrationIds);
    if (!decision.accepted) return decision;
    this.request.selection = integrationIds;
    this.changed();
    return decision;
  }

  /** A deletion's selection is answered once deleting starts; an access type's once it is recorded. */
  get selectionAnsweredOnDeletion(): boolean {
    return hasDeletionPhase(this.request.type);
  }

  get awaitingSelection(): boolean {
    return this.request.step === 'awaiting_selection';
  }

  report({ integrationId, phase, status }: PhaseReport): void {
    applyPhaseReport(this.request, integrationId, phase, status);
    this.changed();
  }

  // ---- The body: phases, stage by stage, and each integration's workflow in them.

  get stages(): number[] {
    return stagesOf(this.request.integrations);
  }

  /**
   * Opens `phase` for the integrations of `stage`: those its configuration decides complete at
   * once; the others show how they start, and are answered, for their workflows to run.
   */
  openStage(phase: Phase, stage: number): string[] {
    const toRun: string[] = [];
    for (const integration of this.request.integrations.filter((i) => i.stage === stage)) {
      const status = phaseStatus(integration, phase);
      if (status === null || isComplete(status)) continue;
      const config = this.config(integration.id);
      const plan =
        phase === 'access'
          ? planAccess(config, this.request.type)
          : planDeletion(config, integration.access, (this.request.selection ?? []).includes(integration.id));
      if (!plan.run) {
        setPhaseStatus(integration, phase, { kind: 'complete', outcome: plan.outcome });
        continue;
      }
      setPhaseStatus(integration, phase, statusOnStart(config));
      toRun.push(integration.id);
    }
    this.changed();
    return toRun;
  }

  /** What the integration's workflow is started with, now (an operator's retry starts it again). */
  task(integrationId: string, phase: Phase): IntegrationTask {
    const integration = this.integration(integrationId);
    return {
      requestId: this.request.id,
      requestType: this.request.type,
      phase,
      subject: this.input.subject,
      integration: this.config(integrationId),
      accessRef: this.accessRefs.get(integrationId),
      operatorsEmail: this.input.operatorsEmail,
      shownOnStart: phaseStatus(integration, phase)!,
    };
  }

  /** Its workflow runs: a stop accepted while it was being started is told to it now. */
  started(integrationId: string, phase: Phase): IntegrationOrder | undefined {
    this.running.add(integrationId);
    if (!this.isComplete(integrationId, phase)) return undefined;
    return { integrationId, phase, command: { command: 'stop' } };
  }

  /** Its workflow ended with an outcome (or was found ended, taken over). */
  ended(integrationId: string, phase: Phase, end: IntegrationEnd): void {
    this.running.delete(integrationId);
    applyPhaseReport(this.request, integrationId, phase, end.status);
    if (end.ref !== undefined) this.accessRefs.set(integrationId, end.ref);
    this.changed();
  }

  /** Its workflow stopped without an outcome: cancelled with the request, or about to be found. */
  interrupted(integrationId: string): void {
    this.running.delete(integrationId);
  }

  /**
   * Its workflow failed outright (terminated, timed out): it shows an error, which an operator may
   * retry (a new workflow) or stop, like any other.
   */
  failed(integrationId: string, phase: Phase, at: string): void {
    applyPhaseReport(this.request, integrationId, phase, { kind: 'error', message: 'Lethe error', at });
    this.changed();
  }

  /** Whether an operator decided about a failed integration: retried (to run again) or stopped. */
  decidedAfterFailure(integrationId: string, phase: Phase): boolean {
    return this.relaunching.has(integrationId) || this.isComplete(integrationId, phase);
  }

  /** Whether the operator's decision was a retry; it is taken. */
  takeRelaunch(integrationId: string): boolean {
    return this.relaunching.delete(integrationId);
  }

  isStageSettled(phase: Phase, stage: number): boolean {
    return isPhaseSettled(this.request, phase, stage);
  }

  /**
   * The stage is settled: what still runs is told to end. Direct contacts past a deadline
   * configured to skip stayed open for a late answer until here; integrations the request
   * already holds complete stop.
   */
  closeStage(phase: Phase): IntegrationOrder[] {
    return [...this.running].map((integrationId) => ({
      integrationId,
      phase,
      command: { command: this.isComplete(integrationId, phase) ? 'stop' : 'close_phase' },
    }));
  }

  /** Access is over: the request waits for its selection, unless `auto_process` takes everything found. */
  finishAccess(): void {
    markAwaitingSelection(this.request);
    if (this.input.autoProcess) this.request.selection = automaticSelection(this.request);
    this.stepChanged();
  }

  get hasSelection(): boolean {
    return this.request.selection !== null;
  }

  /** Answers whether the request has a deletion phase to run, and if it has, starts it. */
  startDeletion(): boolean {
    if (!hasDeletionPhase(this.request.type)) return false;
    this.request.step = 'deleting';
    this.stepChanged();
    return true;
  }

  /** The phases are over; an access type's package is built next. */
  finishPhases(at: string): void {
    this.request.closedAt = at;
    this.changed();
  }

  get needsExport(): boolean {
    return !hasDeletionPhase(this.request.type);
  }

  /** What the package for the subject is built from. */
  exportInput() {
    return {
      request: this.request,
      recordRefs: Object.fromEntries(this.accessRefs),
      categories: Object.fromEntries(this.input.integrations.map((c) => [c.id, c.categories])),
    };
  }

  exported(ref: string, at: string): void {
    this.request.export = { ref, at };
    this.changed();
  }

  /** The package could not be built, however often it was tried: the request closes without it. */
  exportFailed(at: string): void {
    closeEarly(this.request, 'export_failed', at);
    // Shown closed by `close`, which follows.
    this.changed();
  }

  close(): void {
    this.request.step = 'closed';
    this.stepChanged();
  }

  /** Cancelled from outside: its integrations' workflows have stopped, and it closes as it stood. */
  cancelled(at: string): void {
    closeEarly(this.request, 'cancelled', at);
    this.stepChanged();
  }

  get closed(): boolean {
    return this.request.step === 'closed';
  }

  // ---- Publication: what changed since it was last published, taken by the one publisher.

  /**
   * What to publish now: undefined if nothing changed; `searchAttributes` only when the step
   * changed. Taking it marks it published.
   */
  takePublication(): { searchAttributes?: Publication } | undefined {
    if (!this.unpublished.request) return undefined;
    const searchAttributes = this.unpublished.step ? this.publication : undefined;
    this.unpublished = { request: false, step: false };
    return searchAttributes ? { searchAttributes } : {};
  }

  onStepChanged(listener: (publication: Publication) => void): void {
    this.stepListener = listener;
  }

  get hasUnpublished(): boolean {
    return this.unpublished.request;
  }

  get publication(): Publication {
    return { state: shownState(this.request), status: requestStatus(this.request.step) };
  }

  private changed(): void {
    this.unpublished.request = true;
  }

  private stepChanged(): void {
    this.unpublished = { request: true, step: true };
    this.stepListener?.(this.publication);
  }

  private integration(id: string): IntegrationSnapshot {
    return integrationById(this.request, id) as IntegrationSnapshot;
  }

  private config(id: string): IntegrationConfig {
    return this.configs.get(id) as IntegrationConfig;
  }

  private isComplete(integrationId: string, phase: Phase): boolean {
    return isComplete(phaseStatus(this.integration(integrationId), phase)!);
  }
}
