import type { z } from 'zod';
import type { FailureCause, Subject } from '../../domain';

/** A record as the third party returns it; Lethe keeps it as it is. */
export type ConnectorRecord = Record<string, unknown>;

/**
 * A record that names its table in this field (a database's rows) is exported in a file per
 * table, without it.
 */
export const RECORD_TABLE = '@table';

/**
 * A service answers at once, or accepts a job it works on for a while (seconds to days): then
 * Lethe polls it, with durable timers in between, until the job is done.
 */
export type Answer<T> = { done: true; value: T } | { done: false; job: string };

/**
 * A walk through a service in steps (pages read, records deleted): the steps an earlier attempt
 * already took, and where to note each new one, so that an attempt cut short resumes where it was.
 */
export interface Resumable<Step> {
  earlier: Step[];
  note(step: Step): Promise<void>;
}

/** Query parameters that ask a service for one page. */
export type PageParams = Record<string, string | number>;

/** One page read: its records, and the parameters of the next page (null after the last). */
export interface FoundPage {
  records: ConnectorRecord[];
  next: PageParams | null;
}

/**
 * Records as a connector reads them, page by page: the activity writes each to the blob store as
 * it comes, so no answer is ever held whole in memory (a service may hold millions about one person).
 */
export type RecordPages = AsyncIterable<ConnectorRecord[]>;

/** Where a walk through pages is noted: an attempt cut short resumes after the last page read. */
export interface PageProgress {
  /** The pages earlier attempts read, one at a time. */
  earlier(): AsyncIterable<FoundPage>;
  note(page: FoundPage): Promise<void>;
}

/**
 * A deletion's steps, per record (named by a digest, never by its identifiers): a delete about to
 * be sent, then done, or refused by the service. A `sending` left last is in doubt: the attempt
 * ended before an answer came, and the service may have done it.
 */
export type DeletionStep = { sending: string } | { deleted: string } | { failed: string };

/** What Lethe needs of a third-party system. One file per connector implements it. */
export interface Connector {
  find(subject: Subject, progress?: PageProgress): Promise<Answer<RecordPages>>;
  /**
   * Deletes the subject's records: those the access phase found (read one at a time), or
   * (undefined) those the connector finds itself. Answers how many are gone; already deleted ones count.
   */
  deleteRecords(
    subject: Subject,
    records: AsyncIterable<ConnectorRecord> | undefined,
    progress?: Resumable<DeletionStep>,
  ): Promise<Answer<number>>;
  /** Full deletion: the system deletes everything about the subject in one go. */
  deleteSubject(subject: Subject): Promise<Answer<void>>;
  /**
   * Services that work asynchronously: how a job that find or a deletion started is going.
   * `gone`: the service no longer knows the job (it expired); it must be submitted again.
   */
  poll?(
    job: string,
    purpose: 'find' | 'delete',
  ): Promise<Answer<RecordPages | number | undefined> | { done: false; gone: true }>;
  /** How often to poll such a service, and when to give up on a job. */
  readonly polling?: { everyMs: number; giveUpAfterMs: number };
  /**
   * A start-up check of what the configuration names in the system (a database's tables and
   * columns): one line per thing missing.
   */
  verify?(): Promise<string[]>;
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
  /** The answer's size as received, where it was read whole. */
  bytes?: number | null;
  durationMs?: number | null;
}

/** What a connector is given to work with, besides its options. */
export interface ConnectorContext {
  secrets: SecretSource;
  /** Hears every HTTP exchange, for the call log. */
  onCall(call: HttpCall): void;
  /** Aborts calls in flight when the attempt is cancelled (an operator's stop, a worker shutting down). */
  signal?: AbortSignal;
  /** Resolves when the next call may go: a rate-limited integration's calls are spaced out. */
  pace?: () => Promise<void>;
}

export interface ConnectorDefinition<Options> {
  optionsSchema: z.ZodType<Options>;
  create(options: Options, context: ConnectorContext): Connector;
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
