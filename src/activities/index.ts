import { ApplicationFailure, Context } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import { classifyFailure, type Subject } from '../domain';
import type { BlobStore } from '../infra/blob-store';
import { excerptOf, redact, scrubbedError, type CallLog, type CallLogEntry } from '../infra/call-log';
import type { Journal, JournalKey } from '../infra/journal';
import type { Logger } from '../infra/logger';
import type { WorkerMetrics } from '../infra/metrics';
import type { Mailer } from '../infra/mailer';
import {
  connectorFor,
  ConnectorFailure,
  type Answer,
  type Connector,
  type FoundPage,
  type HttpCall,
  type PageProgress,
  type RecordPages,
  type Resumable,
  type SecretSource,
} from './connectors';
import { failureCauseOf } from './connectors/http-failure';
import {
  INTEGRATION_FAILURE_TYPE,
  type ConnectorCallInput,
  type ConnectorStep,
  type IntegrationFailureDetails,
  type IntegrationTakeover,
  type OperatorNoticeInput,
  type OwnerRequestInput,
} from './contracts';
import { buildExportPackage, type ExportInput } from './export-package';
import { operatorNoticeMail, ownerRequestMail } from './owner-mail';
import { readRecords, storeRecords, surveyRecords } from './record-blobs';
import type { IntegrationWorkflowResult } from '../workflows/integration';

export interface ActivityDependencies {
  blobs: BlobStore;
  callLog: CallLog;
  /** Where connector calls note how far they got, so the next attempt resumes there. */
  journal: Journal;
  mailer: Mailer;
  secrets: SecretSource;
  /** Builds the owner's signed link for one phase of one integration of one request. */
  ownerLink(claims: {
    requestId: string;
    integrationId: string;
    phase: OwnerRequestInput['phase'];
    deadline: string;
    linkId?: string;
  }): string;
  log: Logger;
  metrics?: WorkerMetrics;
  /**
   * Removes what this worker's own disk kept of the request: releases before the shared store held
   * everything wrote call logs and journals there, next to the file store's blobs.
   */
  forgetLocally(requestId: string): Promise<void>;
  /** See `takeOverIntegration`. */
  takeOverIntegration(workflowId: string): Promise<IntegrationTakeover<IntegrationWorkflowResult>>;
}

/**
 * The failure an attempt ends in: the taxonomy's message, and whether and when to try again. The
 * integration's workflow decides from these details, so it can show the attempt and the last error
 * meanwhile.
 */
export function integrationFailure(
  message: string,
  retryable: boolean,
  retryAfterMs?: number,
): ApplicationFailure {
  const details: IntegrationFailureDetails =
    retryAfterMs === undefined ? { retryable } : { retryable, retryAfterMs };
  return ApplicationFailure.create({
    type: INTEGRATION_FAILURE_TYPE,
    message,
    nonRetryable: true,
    details: [details],
    // An expected outcome the workflow handles (and the call log records): not a worker warning.
    category: ApplicationFailureCategory.BENIGN,
  });
}

/** Classifies a failure by the contract's taxonomy. */
function asIntegrationFailure(error: unknown): ApplicationFailure {
  const { message, retryable, retryAfterMs } = classifyFailure(failureCauseOf(error), new Date());
  return integrationFailure(message, retryable, retryAfterMs);
}

/**
 * What the call log must never show of the subject: every field (identifiers, the name), and each
 * word of the name, as a service may echo "Doe, Jane".
 */
function identifiersOf(subject: Subject): string[] {
  const values = Object.values(subject).filter((v): v is string => typeof v === 'string');
  const nameWords = (subject.name ?? '').split(/[\s,]+/).filter((word) => word.length >= 2);
  return [...values, ...nameWords];
}

const failed = (call: Partial<HttpCall>) => call.error !== null || (call.status ?? 0) >= 300;

/** Why an attempt gave up, for the call log: the taxonomy's words, and the error's own where it has some. */
function failureText(failure: ApplicationFailure, error: unknown): string {
  return error instanceof Error && error.message ? `${failure.message}: ${error.message}` : failure.message;
}

/**
 * How often a connector attempt tells Temporal it is alive. A heartbeat is also how an attempt
 * hears it was cancelled (an operator's stop), so the worker sends them this often too.
 */
export const HEARTBEAT_EVERY_MS = 2_000;

/** Calls of one attempt at least `intervalMs` apart: the pages and deletes of one call stay within the rate. */
function spacing(intervalMs: number): () => Promise<void> {
  let next = 0;
  return async () => {
    const wait = next - Date.now();
    next = Math.max(next, Date.now()) + intervalMs;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
}

/** A service that loses the jobs Lethe submits, again and again, is not polled forever. */
const MAX_SUBMISSIONS = 3;

export function createActivities(deps: ActivityDependencies) {
  const { blobs, callLog, journal, mailer, secrets, log } = deps;
  // One pace per rate-limited integration, shared by every attempt this worker runs: the task
  // queue's limit spaces out activities, this spaces out the calls inside them.
  const paces = new Map<string, () => Promise<void>>();
  const paceOf = ({ id, rate_limit }: ConnectorCallInput['integration']) => {
    if (!rate_limit) return undefined;
    const key = `${id}@${rate_limit.per_second}`;
    if (!paces.has(key)) paces.set(key, spacing(1000 / rate_limit.per_second));
    return paces.get(key);
  };

  /**
   * Runs one attempt against a connector: every HTTP call it makes goes to the call log, without
   * the secrets it used or the subject's identifiers; any failure leaves classified. A cancelled
   * attempt (a stop, a worker shutting down) aborts the calls in flight.
   */
  async function attempt<T>(
    input: ConnectorCallInput,
    work: (connector: Connector) => Promise<T>,
  ): Promise<T> {
    const context = Context.current();
    const beating = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
    const integration = input.integration.id;
    deps.metrics?.connectorCallsInFlight.inc({ integration });
    const used: string[] = [];
    const calls: HttpCall[] = [];
    const tracked: SecretSource = (name) => {
      const value = secrets(name);
      if (value) used.push(value);
      return value;
    };
    let failure: ApplicationFailure | undefined;
    let thrown: unknown;
    try {
      return await work(
        connectorFor(input.integration, {
          secrets: tracked,
          // A success's body is the subject's data, never logged: not kept either (pages add up).
          onCall: (call) => calls.push(failed(call) ? call : { ...call, body: undefined }),
          signal: context.cancellationSignal,
          pace: paceOf(input.integration),
        }),
      );
    } catch (error) {
      // Cancelled: the SDK reports it as such (a worker shutting down gets the attempt run again).
      if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
      thrown = error;
      failure = asIntegrationFailure(error);
      deps.metrics?.integrationErrors.inc({ integration, message: failure.message });
      throw failure;
    } finally {
      clearInterval(beating);
      deps.metrics?.connectorCallsInFlight.dec({ integration });
      const hidden = [...used, ...identifiersOf(input.subject)];
      const entry = (call: Partial<HttpCall>): CallLogEntry => ({
        time: new Date().toISOString(),
        attempt: input.attempt,
        phase: input.phase,
        method: call.method ?? null,
        url: call.url ? redact(call.url, hidden) : null,
        status: call.status ?? null,
        // A success brought the subject's data: its size is what an operator needs, not its body.
        excerpt: failed(call) ? excerptOf(call.body, hidden) : null,
        error: call.error ? scrubbedError(call.error, hidden) : null,
        bytes: call.bytes ?? null,
        duration_ms: call.durationMs ?? null,
      });
      const entries = calls.map(entry);
      // A failure no call shows (none made, the last one answered, a connector's own refusal not
      // already logged as its call's error) gets a line saying why.
      const last = calls.at(-1);
      const unexplained = !last || (last.error === null && last.status !== null && last.status < 300);
      const ownRefusal = thrown instanceof ConnectorFailure && last?.error !== thrown.message;
      if (failure && (unexplained || ownRefusal))
        entries.push(entry({ error: failureText(failure, thrown) }));
      // The log must never cost the answer: a job the service accepted would otherwise be lost.
      await callLog
        .append(input.requestId, input.integration.id, entries)
        .catch((error: unknown) =>
          log.error(
            { err: error, requestId: input.requestId, integration: input.integration.id },
            'call log not written',
          ),
        );
    }
  }

  const journalKey = (input: ConnectorCallInput, purpose: JournalKey['purpose']): JournalKey => ({
    requestId: input.requestId,
    integrationId: input.integration.id,
    phase: input.phase,
    purpose,
  });

  /** The steps earlier attempts took; each new one is noted before the next is taken. */
  async function resumable<Step>(key: JournalKey): Promise<Resumable<Step>> {
    return {
      earlier: (await journal.read(key)) as Step[],
      // Not a heartbeat each: the attempt's own beat says it is alive, and most attempts end
      // before it is due, so Temporal records no heartbeat at all for them.
      note: (step) => journal.append(key, step),
    };
  }

  /** The notes of a walk through pages, read back one page at a time. */
  function pageProgress(key: JournalKey): PageProgress {
    return {
      earlier: () => journal.entries(key) as AsyncIterable<FoundPage>,
      note: (page) => journal.append(key, page),
    };
  }

  /** A deletion the service does not count: as many as the access phase found, if it looked. */
  const foundByAccess = (input: ConnectorCallInput) => async () =>
    input.accessRef ? (await surveyRecords(blobs, input.accessRef)).count : null;

  /** A connector's answer as the workflow sees it: a count (and where the records are), or a job. */
  async function settle(
    input: ConnectorCallInput,
    connector: Connector,
    answer: Answer<RecordPages | number | undefined | void>,
    deletedIfUncounted: () => Promise<number | null>,
  ): Promise<ConnectorStep> {
    const { requestId, integration } = input;
    if (!answer.done) {
      const polling = connector.polling ?? { everyMs: 30_000, giveUpAfterMs: 7 * 86_400_000 };
      return {
        done: false,
        job: answer.job,
        pollEveryMs: polling.everyMs,
        giveUpAfterMs: polling.giveUpAfterMs,
      };
    }
    if (input.phase === 'access') {
      const { ref, count } = await storeRecords(blobs, requestId, answer.value as RecordPages);
      log.info({ requestId, integration: integration.id, count }, 'records found');
      return { done: true, count, ref };
    }
    const count = typeof answer.value === 'number' ? answer.value : await deletedIfUncounted();
    log.info({ requestId, integration: integration.id, count }, 'records deleted');
    return { done: true, count };
  }

  /** Asks the service: finds (access) or deletes (deletion), resuming where an earlier attempt was. */
  async function submit(input: ConnectorCallInput, connector: Connector): Promise<ConnectorStep> {
    const { integration, subject } = input;
    let answer: Answer<RecordPages | number | void>;
    if (input.phase === 'access') {
      answer = await connector.find(subject, pageProgress(journalKey(input, 'find')));
    } else if (integration.deletion === 'full') {
      answer = await connector.deleteSubject(subject);
    } else {
      const records = input.accessRef ? readRecords(blobs, input.accessRef) : undefined;
      answer = await connector.deleteRecords(subject, records, await resumable(journalKey(input, 'delete')));
    }
    // A job the service accepted is noted before the workflow hears of it: never submitted twice.
    if (!answer.done) await journal.append(journalKey(input, 'job'), answer.job);
    return settle(input, connector, answer, foundByAccess(input));
  }

  /** How a job the service accepted is going; one it no longer knows is submitted again. */
  async function poll(input: ConnectorCallInput, connector: Connector, job: string): Promise<ConnectorStep> {
    if (!connector.poll) throw new Error(`connector "${input.integration.connector}" has no jobs to poll`);
    const answer = await connector.poll(job, input.phase === 'access' ? 'find' : 'delete');
    if ('gone' in answer) {
      const submitted = await journal.read(journalKey(input, 'job'));
      if (submitted.length >= MAX_SUBMISSIONS)
        throw new ConnectorFailure({ kind: 'http', status: 404 }, `the service lost job ${job}`);
      log.warn(
        { requestId: input.requestId, integration: input.integration.id },
        'job expired: submitted again',
      );
      return submit(input, connector);
    }
    return settle(input, connector, answer, foundByAccess(input));
  }

  return {
    /**
     * Finds the subject's records (access) or deletes them (deletion); may leave a job to poll.
     * A job an earlier run of this integration had submitted is polled instead.
     */
    async callConnector(input: ConnectorCallInput): Promise<ConnectorStep> {
      return attempt(input, async (connector) => {
        const job = (await journal.read(journalKey(input, 'job'))).at(-1);
        return typeof job === 'string' ? poll(input, connector, job) : submit(input, connector);
      });
    },

    /** How a job the service accepted is going; the workflow waits between polls. */
    async pollConnector(input: ConnectorCallInput & { job: string }): Promise<ConnectorStep> {
      return attempt(input, (connector) => poll(input, connector, input.job));
    },

    /** Builds the package sent to the subject and keeps it in the blob store; answers its key. */
    async buildExport(input: ExportInput): Promise<string> {
      const context = Context.current();
      const zipped = await buildExportPackage(input, blobs, new Date(), () => context.heartbeat());
      const { key, size } = await blobs.putStream(input.request.id, zipped, 'zip');
      log.info({ requestId: input.request.id, bytes: size }, 'export built');
      return key;
    },

    /** A request reset to an earlier point takes over the integrations its earlier run had started. */
    async takeOverIntegration(workflowId: string): Promise<IntegrationTakeover<IntegrationWorkflowResult>> {
      return deps.takeOverIntegration(workflowId);
    },

    /** The retention period is over: everything kept about the request goes. */
    async purgeRequestData(requestId: string): Promise<void> {
      await blobs.deleteRequest(requestId);
      await mailer.deleteRequest(requestId);
      await deps.forgetLocally(requestId);
      log.info({ requestId }, 'request data deleted at the end of its retention period');
    },

    async sendOwnerRequest(input: OwnerRequestInput): Promise<void> {
      const link = deps.ownerLink({
        requestId: input.requestId,
        integrationId: input.integration.id,
        phase: input.phase,
        deadline: input.deadline,
        linkId: input.linkId,
      });
      await mailer.send(ownerRequestMail(input, link));
    },

    async notifyOperators(input: OperatorNoticeInput): Promise<void> {
      await mailer.send(operatorNoticeMail(input));
    },
  };
}

export type LetheActivities = ReturnType<typeof createActivities>;
