import type { z } from 'zod';
import type { FailureCause, Subject } from '../../domain';

/** A record as the third party returns it; Lethe keeps it as it is. */
export type ConnectorRecord = Record<string, unknown>;

/**
 * A service answers at once, or accepts a job it works on for a while (seconds to days): then
 * Lethe polls it, with durable timers in between, until the job is done.
 */
export type Answer<T> = { done: true; value: T } | { done: false; job: string };

/** What Lethe needs of a third-party system. One file per connector implements it. */
export interface Connector {
  /** `progress` hears how many records were found so far (page by page). */
  find(subject: Subject, progress?: (found: number) => void): Promise<Answer<ConnectorRecord[]>>;
  /** Deletes the records found; answers how many are gone (already deleted ones count). */
  deleteRecords(
    subject: Subject,
    records: ConnectorRecord[],
    progress?: (deleted: number) => void,
  ): Promise<Answer<number>>;
  /** Full deletion: the system deletes everything about the subject in one go. */
  deleteSubject(subject: Subject): Promise<Answer<void>>;
  /** Services that work asynchronously: how a job that find or a deletion started is going. */
  poll?(job: string, purpose: 'find' | 'delete'): Promise<Answer<ConnectorRecord[] | number | undefined>>;
  /** How often to poll such a service, and when to give up on a job. */
  readonly polling?: { everyMs: number; giveUpAfterMs: number };
}

/** Reads a secret named by the configuration; secrets are never written in the configuration itself. */
export type SecretSource = (variable: string) => string | undefined;

/** An HTTP exchange as it happened, before redaction: the activity records it in the call log. */
export interface HttpCall {
  method: string;
  url: string;
  status: number | null;
  body: unknown;
  error: string | null;
}

export interface ConnectorDefinition<Options> {
  optionsSchema: z.ZodType<Options>;
  create(options: Options, secrets: SecretSource, onCall: (call: HttpCall) => void): Connector;
}

/** A failure the error taxonomy knows how to classify. */
export class ConnectorFailure extends Error {
  constructor(
    readonly failure: FailureCause,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectorFailure';
  }
}

export function requireSecret(secrets: SecretSource, variable: string): string {
  const value = secrets(variable);
  if (!value) throw new ConnectorFailure({ kind: 'disconnected' }, `credential ${variable} is not set`);
  return value;
}
