import type { PhaseStatus } from './integration-state';
import type {
  ActionRecord,
  ClosedEarly,
  IntegrationSnapshot,
  RequestRecord,
  RequestSnapshot,
} from './privacy-request';
import type { Regulation, RequestStep, RequestType, TriggerType } from './request';

/**
 * What is kept of a request once its retention period is over: proof that it was answered, and
 * how, without personal data. Every field is picked here by name, so a field the snapshot gains
 * later (the subject's, say) is not kept unless it is added on purpose.
 */
export interface ProofRecord {
  id: string;
  type: RequestType;
  regulation: Regulation;
  requestDate: string;
  dueDate: string;
  triggerType: TriggerType;
  autoProcess: boolean;
  /** Where the request was when it ended: `closed`, or the step a terminated request stopped at. */
  step: RequestStep;
  closedAt: string | null;
  /** Why it closed before its course was run (cancelled, no package): a cause and a time, nothing personal. */
  closedEarly?: ClosedEarly;
  selection: string[] | null;
  /** When the package was sent to the subject (access types); the package itself is gone. */
  exportedAt: string | null;
  purgedAt: string;
  integrations: IntegrationProof[];
}

export interface IntegrationProof {
  id: string;
  name: string;
  type: IntegrationSnapshot['type'];
  stage: number;
  access: PhaseStatus;
  deletion: PhaseStatus | null;
  /** Who acted when. */
  history: ActionRecord[];
  /** How many files the owner uploaded: their names may be personal, and the files are gone. */
  uploads: number;
}

/** `record`: the request's (`recordOf` its snapshot). */
export function proofRecordOf(snapshot: RequestRecord, purgedAt: string): ProofRecord {
  return {
    id: snapshot.id,
    type: snapshot.type,
    regulation: snapshot.regulation,
    requestDate: snapshot.requestDate,
    dueDate: snapshot.dueDate,
    triggerType: snapshot.triggerType,
    autoProcess: snapshot.autoProcess,
    step: snapshot.step,
    closedAt: snapshot.closedAt,
    ...(snapshot.closedEarly ? { closedEarly: snapshot.closedEarly } : {}),
    selection: snapshot.selection,
    exportedAt: snapshot.export?.at ?? null,
    purgedAt,
    integrations: snapshot.integrations.map((i) => ({
      id: i.id,
      name: i.name,
      type: i.type,
      stage: i.stage,
      access: i.access,
      deletion: i.deletion,
      history: i.history.map(({ at, actor, by, action, phase }) => ({ at, actor, by, action, phase })),
      uploads: i.uploads,
    })),
  };
}

/** A proof read back as a snapshot with nothing left in it, for the views that present snapshots. */
export function snapshotOfProof(proof: ProofRecord): RequestSnapshot {
  return {
    id: proof.id,
    type: proof.type,
    regulation: proof.regulation,
    requestDate: proof.requestDate,
    dueDate: proof.dueDate,
    triggerType: proof.triggerType,
    autoProcess: proof.autoProcess,
    step: proof.step,
    closedAt: proof.closedAt,
    ...(proof.closedEarly ? { closedEarly: proof.closedEarly } : {}),
    selection: proof.selection,
    integrations: proof.integrations.map((i) => ({ ...i, uploads: [] })),
    subject: {},
    export: null,
    purgedAt: proof.purgedAt,
  };
}
