import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { classifyFailure } from '../domain';
import type { BlobStore } from '../infra/blob-store';
import type { Logger } from '../infra/logger';
import type { Mailer } from '../infra/mailer';
import { connectorFor, type ConnectorRecord, type SecretSource } from './connectors';
import { failureCauseOf } from './connectors/http-failure';
import {
  INTEGRATION_FAILURE_TYPE,
  type DeleteRecordsInput,
  type DeleteRecordsResult,
  type FindRecordsInput,
  type FindRecordsResult,
  type OwnerRequestInput,
} from './contracts';
import { ownerRequestMail } from './owner-mail';

export interface ActivityDependencies {
  blobs: BlobStore;
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
 * Classifies a failure by the contract's taxonomy and lets Temporal's retry policy act on it:
 * transient ones are retried (after Retry-After, if given), the rest fail at once.
 */
function asIntegrationFailure(error: unknown): ApplicationFailure {
  const { message, retryable, retryAfterMs } = classifyFailure(failureCauseOf(error), new Date());
  return ApplicationFailure.create({
    type: INTEGRATION_FAILURE_TYPE,
    message,
    nonRetryable: !retryable,
    nextRetryDelay: retryAfterMs,
  });
}

async function classified<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asIntegrationFailure(error);
  }
}

export function createActivities(deps: ActivityDependencies) {
  const { blobs, mailer, secrets, log } = deps;

  return {
    async findRecords({ requestId, integration, subject }: FindRecordsInput): Promise<FindRecordsResult> {
      const records = await classified(() => connectorFor(integration, secrets).find(subject));
      const ref = await blobs.put(requestId, JSON.stringify(records), 'json');
      log.info({ requestId, integration: integration.id, count: records.length }, 'records found');
      return { count: records.length, ref };
    },

    async deleteRecords(input: DeleteRecordsInput): Promise<DeleteRecordsResult> {
      const { requestId, integration, subject, accessRef } = input;
      const count = await classified(async () => {
        const connector = connectorFor(integration, secrets);
        if (integration.deletion === 'full') {
          await connector.deleteSubject(subject);
          return 0;
        }
        const records: ConnectorRecord[] = accessRef
          ? JSON.parse((await blobs.get(accessRef)).toString('utf8'))
          : await connector.find(subject);
        // A heartbeat per record: a long deletion is not mistaken for a stuck one, and a stop reaches it.
        return connector.deleteRecords(subject, records, (deleted) => heartbeat(deleted));
      });
      log.info({ requestId, integration: integration.id, count }, 'records deleted');
      return { count };
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
  };
}

export type LetheActivities = ReturnType<typeof createActivities>;
