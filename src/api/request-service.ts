import { createHash, randomBytes } from 'node:crypto';
import {
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { decodeMapFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import {
  hasDeletionPhase,
  newRequestSnapshot,
  presentOwnerTask,
  parseDuration,
  proofRecordOf,
  recordOf,
  snapshotOfProof,
  snapshotOfRecord,
  presentRequest,
  REQUEST_STATES,
  requestState,
  requestStatus,
  type IntegrationAction,
  type LetheConfig,
  type OwnerAnswer,
  type OwnerTaskView,
  type Phase,
  type PrivacyRequestInput,
  type ProofRecord,
  type RequestRecord,
  type RequestSnapshot,
  type RequestView,
} from '../domain';
import {
  getRequestQuery,
  PROOF_MEMO,
  PURGED_STATUS,
  RECORD_MEMO,
  REQUEST_MEMO,
  integrationActionUpdate,
  ownerReplyUpdate,
  requestStateAttribute,
  requestStatusAttribute,
  requestTypeAttribute,
  selectionUpdate,
  TASK_QUEUE,
} from '../workflows/definitions';
import { PrivacyRequestWorkflow } from '../workflows';
import { ApiError } from './errors';
import type { PageTokens } from './page-token';
import { listQuerySchema, type CreateRequestBody } from './schemas';

const listFilterSchema = listQuerySchema.pick({ status: true, type: true, state: true });

const GRPC_INVALID_ARGUMENT = 3;

/** The request date the API gave the request when it started it: what the list shows. */
const REQUEST_DATE_MEMO = 'requestDate';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomRequestId(): string {
  const bytes = randomBytes(26);
  return `req_${[...bytes].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')}`;
}

/** The same key from the same client names the same request, so a retried POST finds it. */
function idempotentRequestId(clientFingerprint: string, key: string): string {
  const digest = createHash('sha256').update(`${clientFingerprint}\n${key}`).digest();
  return `req_${[...digest.subarray(0, 26)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')}`;
}

function bodyHash(body: CreateRequestBody): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/**
 * What time it is for the labels that depend on it ("Due in 3 days"): the wall clock, or in tests
 * on the time-skipping server, the server's clock.
 */
export type Clock = () => Promise<Date>;

/** The proof the retention sweep kept for a request whose workflow was terminated, if it has run. */
export type SweptProofReader = (requestId: string) => Promise<ProofRecord | undefined>;

/** The subject's signed link to a request's export, made when it was built. */
export type ExportLinker = (requestId: string, exportedAt: string) => string | null;

/** Requests started before the API kept their date in the memo: their workflow's start time. */
function startedAt(start: { seconds?: unknown; nanos?: number | null } | null | undefined): string | null {
  return start?.seconds == null
    ? null
    : new Date(Number(start.seconds) * 1000 + (start.nanos ?? 0) / 1e6).toISOString();
}

export interface RequestSummary {
  id: string;
  type: string | null;
  state: string | null;
  status: string | null;
  request_date: string | null;
}

/**
 * Everything the API asks of Temporal, through the one client created at start-up. Route
 * handlers validate and call these; this validates nothing the domain decides.
 */
export class RequestService {
  private readonly taskQueue: string;
  private readonly now: Clock;
  private readonly exportLink: ExportLinker;
  private readonly sweptProof: SweptProofReader;

  constructor(
    private readonly client: Client,
    private readonly config: LetheConfig,
    private readonly pageTokens: PageTokens,
    options: {
      taskQueue?: string;
      clock?: Clock;
      exportLink?: ExportLinker;
      sweptProof?: SweptProofReader;
    } = {},
  ) {
    this.taskQueue = options.taskQueue ?? TASK_QUEUE;
    this.now = options.clock ?? (async () => new Date());
    this.exportLink = options.exportLink ?? (() => null);
    this.sweptProof = options.sweptProof ?? (async () => undefined);
  }

  async create(
    body: CreateRequestBody,
    client: { fingerprint: string; idempotencyKey?: string },
  ): Promise<{ request: RequestView; replayed: boolean }> {
    const integrations = this.integrationsFor(body.integrations);
    const input: PrivacyRequestInput = {
      id: client.idempotencyKey
        ? idempotentRequestId(client.fingerprint, client.idempotencyKey)
        : randomRequestId(),
      type: body.type,
      regulation: body.regulation,
      requestDate: (await this.now()).toISOString(),
      triggerType: body.trigger_type,
      autoProcess: body.auto_process,
      subject: body.subject,
      integrations,
      operatorsEmail: this.config.operators?.email,
      retention: this.config.retention,
    };
    const hash = bodyHash(body);
    try {
      await this.client.workflow.start(PrivacyRequestWorkflow, {
        workflowId: input.id,
        taskQueue: this.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // No snapshot in the memo yet: only a worker that publishes it writes it, so a memo is never
        // left stale by a worker that does not (until then, reads fall back to the query). The
        // request date is the list's, the same value the request itself shows.
        memo: { bodyHash: hash, [REQUEST_DATE_MEMO]: input.requestDate },
        typedSearchAttributes: [
          { key: requestTypeAttribute, value: input.type },
          { key: requestStateAttribute, value: requestState(input.type, 'accessing') },
          { key: requestStatusAttribute, value: requestStatus('accessing') },
        ],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError) || !client.idempotencyKey) throw error;
      const existing = await this.client.workflow.getHandle(input.id).describe();
      if (existing.memo?.bodyHash !== hash) {
        throw new ApiError('INVALID_STATE', 'this Idempotency-Key was used before with a different body');
      }
      return { request: await this.get(input.id), replayed: true };
    }
    return { request: presentRequest(newRequestSnapshot(input), await this.now()), replayed: false };
  }

  /** A request whose retention period is over answers from its proof record: what remains of it. */
  async get(id: string): Promise<RequestView> {
    const kept = await this.record(id);
    if ('proof' in kept) return presentRequest(snapshotOfProof(kept.proof), await this.now());
    return this.present(kept.snapshot);
  }

  /**
   * What one owner is asked, for their page, as the link of round `linkId` sees it; undefined if
   * the integration is not part of the request. The page shows whom the request is about, which
   * only the workflow holds (its memo does not).
   */
  async ownerTask(
    id: string,
    integrationId: string,
    phase: Phase,
    linkId?: string,
  ): Promise<OwnerTaskView | undefined> {
    const kept = await this.record(id);
    if ('proof' in kept) throw new ApiError('REQUEST_NOT_FOUND', 'no request with this id');
    const snapshot = await this.handle(id).query(getRequestQuery);
    return presentOwnerTask(snapshot, integrationId, phase, await this.now(), linkId);
  }

  /** The blob key of the package sent to the subject. */
  async exportOf(id: string): Promise<string> {
    const snapshot = await this.snapshot(id);
    if (!snapshot.export) {
      throw new ApiError(
        'INVALID_STATE',
        hasDeletionPhase(snapshot.type)
          ? 'a deletion request has no export'
          : 'the export is made when the request is sent (after the selection)',
      );
    }
    return snapshot.export.ref;
  }

  /** The request as its workflow holds it; one whose retention period ended is gone. */
  private async snapshot(id: string): Promise<RequestSnapshot> {
    const kept = await this.record(id);
    if ('proof' in kept) throw new ApiError('REQUEST_NOT_FOUND', 'no request with this id');
    return kept.snapshot;
  }

  /**
   * The request as its memo shows it (its record; the whole snapshot for requests started before
   * records), or once its data is gone, its proof: in its memo (requests that purged themselves),
   * or where the retention sweep kept it (requests closed, completed or not). Requests started
   * before either answer the query; those purged before proofs have their proof made here.
   */
  private async record(id: string): Promise<{ snapshot: RequestSnapshot } | { proof: ProofRecord }> {
    const handle = this.handle(id);
    const described = await handle.describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return error;
      throw error;
    });
    if (described instanceof WorkflowNotFoundError) {
      // Swept, then deleted by Temporal once the namespace's retention passed: the proof remains.
      const swept = await this.sweptProof(id);
      if (swept) return { proof: swept };
      throw described;
    }
    const { memo, status } = described;
    const proof = memo?.[PROOF_MEMO] as ProofRecord | undefined;
    if (proof) return { proof };
    const swept = status.name === 'RUNNING' ? undefined : await this.sweptProof(id);
    if (swept) return { proof: swept };
    const record = memo?.[RECORD_MEMO] as RequestRecord | undefined;
    if (record) return { snapshot: snapshotOfRecord(record) };
    const snapshot =
      (memo?.[REQUEST_MEMO] as RequestSnapshot | undefined) ?? (await handle.query(getRequestQuery));
    return snapshot.purgedAt ? { proof: proofRecordOf(recordOf(snapshot), snapshot.purgedAt) } : { snapshot };
  }

  private async present(snapshot: RequestSnapshot): Promise<RequestView> {
    const dataUrl = snapshot.export ? this.exportLink(snapshot.id, snapshot.export.at) : null;
    return presentRequest(snapshot, await this.now(), dataUrl);
  }

  async list(filter: {
    status?: string;
    type?: string;
    state?: string;
    limit: number;
    page_token?: string;
  }): Promise<{ requests: RequestSummary[]; next_page_token: string | null }> {
    // Only values from fixed lists go into the visibility query.
    const checked = listFilterSchema.parse({ status: filter.status, type: filter.type, state: filter.state });
    const queryOf = (closedSince: string) => {
      const clauses = [this.retainedRequests(closedSince)];
      if (checked.status) clauses.push(`${requestStatusAttribute.name} = '${checked.status}'`);
      if (checked.type) clauses.push(`${requestTypeAttribute.name} = '${checked.type}'`);
      if (checked.state) clauses.push(`${requestStateAttribute.name} = '${checked.state}'`);
      return clauses.join(' AND ');
    };
    // Later pages list with the first page's cutoff, or they would page through another list.
    const page = filter.page_token ? this.pageTokens.open(filter.page_token, queryOf) : undefined;
    const closedSince = page?.pinned || (await this.retentionCutoff());
    const query = queryOf(closedSince);
    const response = await this.client.workflowService
      .listWorkflowExecutions({
        namespace: this.client.options.namespace,
        query,
        pageSize: filter.limit,
        nextPageToken: page?.temporalToken,
      })
      .catch((error: unknown) => {
        // A token signed before Temporal's visibility store changed: the client lists again.
        if (isGrpcServiceError(error) && error.code === GRPC_INVALID_ARGUMENT && filter.page_token) {
          throw new ApiError(
            'MALFORMED_PARAMETER',
            'query.page_token: not a next_page_token from a previous page',
          );
        }
        throw error;
      });
    const keyword = (
      fields: Record<string, { data?: Uint8Array | null }> | null | undefined,
      name: string,
    ) => {
      const data = fields?.[name]?.data;
      return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as string) : null;
    };
    const converter = this.client.options.loadedDataConverter;
    const listed = await Promise.all(
      (response.executions ?? []).map(async (execution) => {
        const fields = execution.searchAttributes?.indexedFields;
        const memo = await decodeMapFromPayloads(converter, execution.memo?.fields);
        // Requests that purged themselves on releases before `purged-requests-unlisted` kept their
        // status: their memo tells they are gone.
        const purged =
          memo?.[PROOF_MEMO] !== undefined ||
          Boolean((memo?.[REQUEST_MEMO] as RequestSnapshot | undefined)?.purgedAt);
        return purged
          ? []
          : [
              {
                id: execution.execution?.workflowId ?? '',
                type: keyword(fields, requestTypeAttribute.name),
                state: keyword(fields, requestStateAttribute.name),
                status: keyword(fields, requestStatusAttribute.name),
                request_date:
                  (memo?.[REQUEST_DATE_MEMO] as string | undefined) ?? startedAt(execution.startTime),
              },
            ];
      }),
    );
    const requests = listed.flat();
    const token = response.nextPageToken;
    return {
      requests,
      next_page_token: token && token.length > 0 ? this.pageTokens.seal(token, query, closedSince) : null,
    };
  }

  /** Requests within their retention period, by state: what /metrics reports. */
  async countByState(): Promise<Record<string, number>> {
    const retained = this.retainedRequests(await this.retentionCutoff());
    const counts = await Promise.all(
      REQUEST_STATES.map(async (state) => {
        const { count } = await this.client.workflow.count(
          `${retained} AND ${requestStateAttribute.name} = '${state}'`,
        );
        return [state, count] as const;
      }),
    );
    return Object.fromEntries(counts);
  }

  /**
   * The requests within their retention period: running, or closed less than the retention period
   * ago (the sweep deletes their data once it ends). Requests that slept out their period before
   * completing say they are purged.
   */
  private retainedRequests(closedSince: string): string {
    return [
      `WorkflowType = '${PrivacyRequestWorkflow.name}'`,
      `(ExecutionStatus = 'Running' OR (ExecutionStatus = 'Completed' AND CloseTime > '${closedSince}'))`,
      `${requestStatusAttribute.name} != '${PURGED_STATUS}'`,
    ].join(' AND ');
  }

  /** When a request must have closed since to be within its retention period now (ISO 8601). */
  private async retentionCutoff(): Promise<string> {
    return new Date((await this.now()).getTime() - parseDuration(this.config.retention)).toISOString();
  }

  /** Whether Temporal answers: the API is of no use without it. */
  async temporalReachable(): Promise<boolean> {
    try {
      await this.client.connection.withDeadline(Date.now() + 2000, () =>
        this.client.workflowService.getSystemInfo({}),
      );
      return true;
    } catch {
      return false;
    }
  }

  async select(id: string, integrations: string[]): Promise<RequestView> {
    return this.update(id, (handle) => handle.executeUpdate(selectionUpdate, { args: [{ integrations }] }));
  }

  async act(
    id: string,
    integrationId: string,
    action: IntegrationAction,
    who: { actor: string; by?: string },
  ): Promise<RequestView> {
    return this.update(id, (handle) =>
      handle.executeUpdate(integrationActionUpdate, { args: [{ integrationId, action, ...who }] }),
    );
  }

  async ownerReply(
    id: string,
    integrationId: string,
    phase: Phase,
    answer: OwnerAnswer,
    linkId?: string,
  ): Promise<RequestView> {
    return this.update(id, (handle) =>
      handle.executeUpdate(ownerReplyUpdate, {
        args: [{ integrationId, phase, answer, ...(linkId === undefined ? {} : { linkId }) }],
      }),
    );
  }

  private handle(id: string): WorkflowHandle {
    return this.client.workflow.getHandle(id);
  }

  /** Updates reach only running workflows: a closed request is an invalid state, not a missing one. */
  private async update(
    id: string,
    send: (handle: WorkflowHandle) => Promise<RequestSnapshot>,
  ): Promise<RequestView> {
    const handle = this.handle(id);
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') throw new ApiError('INVALID_STATE', 'the request is closed');
    return this.present(await send(handle));
  }

  private integrationsFor(ids: string[] | undefined) {
    if (!ids) return this.config.integrations;
    const unknown = ids.filter((id) => !this.config.integrations.some((i) => i.id === id));
    if (unknown.length > 0) {
      throw new ApiError(
        'MALFORMED_PARAMETER',
        `integrations: unknown integration ids: ${unknown.join(', ')}`,
      );
    }
    return this.config.integrations.filter((i) => ids.includes(i.id));
  }
}
