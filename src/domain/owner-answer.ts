/** What a system owner may answer through their link, and what each answer means for the phase. */
import type { PhaseOutcome } from './integration-state';
import type { Phase } from './request';

export interface StoredFile {
  /** Blob store key; generated, never the uploader's file name. */
  ref: string;
  name: string;
  size: number;
}

export const ACCESS_ANSWERS = ['files', 'no_data'] as const;
export const DELETION_ANSWERS = ['deleted', 'no_data', 'not_deleted'] as const;

export type OwnerAnswer =
  | { answer: 'files'; files: StoredFile[] }
  | { answer: 'no_data' }
  | { answer: 'deleted' }
  | { answer: 'not_deleted' };

/** The wording of the direct contact form (contract section 5). */
export const DELETION_ANSWER_TEXT: Record<(typeof DELETION_ANSWERS)[number], string> = {
  deleted: 'Yes, we have deleted any applicable data belonging to the data subject',
  no_data: 'No, we do not hold personal data about the data subject',
  not_deleted: 'No, we could not delete data for the data subject',
};

export function ownerAnswerOutcome(phase: Phase, answer: OwnerAnswer): PhaseOutcome | undefined {
  if (phase === 'access') {
    if (answer.answer === 'files') return { kind: 'files_uploaded', count: answer.files.length };
    if (answer.answer === 'no_data') return { kind: 'files_uploaded', count: 0 };
    return undefined;
  }
  if (answer.answer === 'deleted') return { kind: 'deletion_done' };
  if (answer.answer === 'no_data') return { kind: 'nothing_to_delete' };
  if (answer.answer === 'not_deleted') return { kind: 'data_found_not_deleted' };
  return undefined;
}

/** Why an answer does not fit the phase it was given for, if it does not. */
export function refuseOwnerAnswer(phase: Phase, answer: OwnerAnswer['answer']): string | undefined {
  const allowed: readonly string[] = phase === 'access' ? ACCESS_ANSWERS : DELETION_ANSWERS;
  if (allowed.includes(answer)) return undefined;
  return `"${answer}" is not an answer to ${phase === 'access' ? 'an access' : 'a deletion'} request (${allowed.join(', ')})`;
}
