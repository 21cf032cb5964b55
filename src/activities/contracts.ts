/** The activities' inputs and results: what crosses from workflow code to I/O and back. */
import type {
  ApiIntegrationConfig,
  DirectContactIntegrationConfig,
  Phase,
  RequestType,
  Subject,
} from '../domain';

export interface FindRecordsInput {
  requestId: string;
  integration: ApiIntegrationConfig;
  subject: Subject;
}

/** Records stay in the blob store; only their count and reference travel through Temporal. */
export interface FindRecordsResult {
  count: number;
  ref: string;
}

export interface DeleteRecordsInput {
  requestId: string;
  integration: ApiIntegrationConfig;
  subject: Subject;
  /** What the access phase found; without it (access skipped or stopped) the connector looks again. */
  accessRef?: string;
}

export interface DeleteRecordsResult {
  count: number;
}

export interface OwnerRequestInput {
  requestId: string;
  requestType: RequestType;
  phase: Phase;
  integration: DirectContactIntegrationConfig;
  subject: Subject;
  deadline: string;
  /** The second email, shortly before the deadline. */
  reminder?: boolean;
}

/** Thrown by activities as an ApplicationFailure of this type; its message is the contract's. */
export const INTEGRATION_FAILURE_TYPE = 'IntegrationFailure';
