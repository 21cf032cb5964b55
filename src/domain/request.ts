import { DAY_MS } from './duration';

export const REQUEST_TYPES = ['access', 'access_categories', 'portability', 'deletion'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

export const REGULATIONS = ['gdpr', 'ccpa'] as const;
export type Regulation = (typeof REGULATIONS)[number];

export const TRIGGER_TYPES = ['api', 'dashboard'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export const PHASES = ['access', 'deletion'] as const;
export type Phase = (typeof PHASES)[number];

export const SUBJECT_IDENTIFIERS = ['email', 'phone', 'custom_id', 'advertising_id'] as const;
export type SubjectIdentifier = (typeof SUBJECT_IDENTIFIERS)[number];

/** Who the request is about. `name` helps a human owner search, but is not an identifier. */
export type Subject = Partial<Record<SubjectIdentifier, string>> & { name?: string };

/** Legal answer deadlines: GDPR art. 12(3) one month, CCPA §1798.130 45 days. */
const DEADLINE_DAYS: Record<Regulation, number> = { gdpr: 30, ccpa: 45 };

export function dueDate(requestDate: Date, regulation: Regulation): Date {
  return new Date(requestDate.getTime() + DEADLINE_DAYS[regulation] * DAY_MS);
}

export function hasDeletionPhase(type: RequestType): boolean {
  return type === 'deletion';
}

/** Where the request's workflow is (internal); the API's `state` and `status` are derived from it. */
export type RequestStep = 'accessing' | 'awaiting_selection' | 'deleting' | 'closed';

/** The API's `state`: the seed's "Request State Summary". */
export type RequestState =
  'Accessing data' | 'Data accessed' | 'Data ready for deletion' | 'Deleting data' | 'Data deleted';

export const REQUEST_STATES: readonly RequestState[] = [
  'Accessing data',
  'Data accessed',
  'Data ready for deletion',
  'Deleting data',
  'Data deleted',
];

/** The seed's "Request State Summary". */
export function requestState(type: RequestType, step: RequestStep): RequestState {
  if (step === 'accessing') return 'Accessing data';
  if (!hasDeletionPhase(type)) return 'Data accessed';
  if (step === 'awaiting_selection') return 'Data ready for deletion';
  if (step === 'deleting') return 'Deleting data';
  return 'Data deleted';
}

/** The API's `status`: open or closed. */
export type RequestStatus = 'pending' | 'done';

export function requestStatus(step: RequestStep): RequestStatus {
  return step === 'closed' ? 'done' : 'pending';
}
