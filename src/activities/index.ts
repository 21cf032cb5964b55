import { ApplicationFailure } from '@temporalio/activity';
import { heartbeat } from '@temporalio/activity';
import { classifyFailure, SUBJECT_IDENTIFIERS, type Subject } from '../domain';
import type { BlobStore } from '../infra/blob-store';
import { excerptOf, redact, type CallLogEntry, type FileCallLog } from '../infra/call-log';
import type { Logger } from '../infra/logger';
import type { Mailer } from '../infra/mailer';
import {
  connectorFor,
  type Answer,
  type Connector,
  type ConnectorRecord,
  type HttpCall,
  type SecretSource,
} from './connectors';
import { failureCauseOf } from './connectors/http-failure';
import {
  INTEGRATION_FAILURE_TYPE,
  type ConnectorCallInput,
  type ConnectorStep,
  type IntegrationFailureDetails,
  type OperatorNoticeInput,
  type OwnerRequestInput,
} from './contracts';
import { operatorNoticeMail, ownerRequestMail } from './owner-mail';

export interface ActivityDependencies {
  blobs: BlobStore;
  callLog: FileCallLog;
  mailer: Mailer;
  secrets: SecretSource;
  /** Builds the owner's signed link for one phase of one integration of one request. */
  ownerLink(claims: {
    requestId: string;
    integrationId: string;
    phase: OwnerRequestInput['phase'];
    deadline: string;
  }): string;
  log: Logger;
}

/**
 * Classifies a failure by the contract's taxonomy. The integration's workflow decides from the
 * details whether and when to try again, so it can show the attempt and the last error meanwhile.
 */
function asIntegrationFailure(error: unknown): ApplicationFailure {
  const { message, retryable, retryAfterMs } = classifyFailure(failureCauseOf(error), new Date());
  const details: IntegrationFailureDetails =
    retryAfterMs === undefined ? { retryable } : { retryable, retryAfterMs };
  return ApplicationFailure.create({
    type: INTEGRATION_FAILURE_TYPE,
    message,
    nonRetryable: true,
    details: [details],
  });
}

/** What the call log must never show of the subject: identifiers, and the name a template may use. */
function identifiersOf(subject: Subject): string[] {
  return [...SUBJECT_IDENTIFIERS.map((key) => subject[key]), subject.name].filter(
    (v): v is string => typeof v === 'string',
  );
}

export function createActivities(deps: ActivityDependencies) {
  const { blobs, callLog, mailer, secrets, log } = deps;

  /**
   * Runs one attempt against a connector: every HTTP call it makes goes to the call log, without
   * the secrets it used or the subject's identifiers; any failure leaves classified.
   */
  async function attempt<T>(
    input: ConnectorCallInput,
    work: (connector: Connector) => Promise<T>,
  ): Promise<T> {
    const used: string[] = [];
    const calls: HttpCall[] = [];
    const tracked: SecretSource = (name) => {
      const value = secrets(name);
      if (value) used.push(value);
      return value;
    };
    let failure: ApplicationFailure | undefined;
    try {
      return await work(connectorFor(input.integration, tracked, (call) => calls.push(call)));
    } catch (error) {
      failure = asIntegrationFailure(error);
      throw failure;
    } finally {
      const hidden = [...used, ...identifiersOf(input.subject)];
      const entry = (call: Partial<HttpCall>): CallLogEntry => ({
        time: new Date().toISOString(),
        attempt: input.attempt,
        phase: input.phase,
        method: call.method ?? null,
        url: call.url ? redact(call.url, hidden) : null,
        status: call.status ?? null,
        excerpt: excerptOf(call.body, hidden),
        error: call.error ? redact(call.error, hidden) : null,
      });
      const entries = calls.map(entry);
      if (failure && calls.length === 0) entries.push(entry({ error: failure.message }));
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

  async function recordsAt(ref: string): Promise<ConnectorRecord[]> {
    return JSON.parse((await blobs.get(ref)).toString('utf8')) as ConnectorRecord[];
  }

  async function settledRecords(answer: Answer<ConnectorRecord[]>): Promise<ConnectorRecord[]> {
    if (!answer.done)
      throw new Error('a connector that works in jobs cannot delete records it has not found first');
    return answer.value;
  }

  /** A connector's answer as the workflow sees it: a count (and where the records are), or a job. */
  async function settle(
    input: ConnectorCallInput,
    connector: Connector,
    answer: Answer<ConnectorRecord[] | number | undefined | void>,
    deletedIfUnknown = 0,
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
      const records = (answer.value ?? []) as ConnectorRecord[];
      const ref = await blobs.put(requestId, JSON.stringify(records), 'json');
      log.info({ requestId, integration: integration.id, count: records.length }, 'records found');
      return { done: true, count: records.length, ref };
    }
    const count = typeof answer.value === 'number' ? answer.value : deletedIfUnknown;
    log.info({ requestId, integration: integration.id, count }, 'records deleted');
    return { done: true, count };
  }

  return {
    /** Finds the subject's records (access) or deletes them (deletion); may leave a job to poll. */
    async callConnector(input: ConnectorCallInput): Promise<ConnectorStep> {
      return attempt(input, async (connector) => {
        if (input.phase === 'access') {
          return settle(input, connector, await connector.find(input.subject, (n) => heartbeat(n)));
        }
        const { integration, subject } = input;
        if (integration.deletion === 'full')
          return settle(input, connector, await connector.deleteSubject(subject));
        const records = input.accessRef ? await recordsAt(input.accessRef) : undefined;
        const found = records ?? (await settledRecords(await connector.find(subject)));
        // A heartbeat per record: a long deletion is not mistaken for a stuck one, and a stop reaches it.
        return settle(
          input,
          connector,
          await connector.deleteRecords(subject, found, (n) => heartbeat(n)),
          found.length,
        );
      });
    },

    /** How a job the service accepted is going; the workflow waits between polls. */
    async pollConnector(input: ConnectorCallInput & { job: string }): Promise<ConnectorStep> {
      return attempt(input, async (connector) => {
        if (!connector.poll)
          throw new Error(`connector "${input.integration.connector}" has no jobs to poll`);
        const answer = await connector.poll(input.job, input.phase === 'access' ? 'find' : 'delete');
        const found = input.accessRef ? (await recordsAt(input.accessRef)).length : 0;
        return settle(input, connector, answer, found);
      });
    },

    async sendOwnerRequest(input: OwnerRequestInput): Promise<void> {
      const link = deps.ownerLink({
        requestId: input.requestId,
        integrationId: input.integration.id,
        phase: input.phase,
        deadline: input.deadline,
      });
      await mailer.send(ownerRequestMail(input, link));
    },

    async notifyOperators(input: OperatorNoticeInput): Promise<void> {
      await mailer.send(operatorNoticeMail(input));
    },
  };
}

export type LetheActivities = ReturnType<typeof createActivities>;
