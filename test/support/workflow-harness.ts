import { randomUUID } from 'node:crypto';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { LetheActivities } from '../../src/activities';
import type { ConnectorCallInput } from '../../src/activities/contracts';
import { validateLetheConfig } from '../../src/config/integrations-file';
import {
  presentRequest,
  type IntegrationConfig,
  type PrivacyRequestInput,
  type RequestView,
} from '../../src/domain';
import { encryptedDataConverter, newEncryptionKey, parseEncryptionKeys } from '../../src/infra/payload-codec';
import { getRequestQuery } from '../../src/workflows/definitions';
import { PrivacyRequestWorkflow } from '../../src/workflows/privacy-request';
import { eventually } from './http';
import { testIntegrations } from './integrations';
import { startTemporal, workflowBundle } from './stack';

/**
 * The request and integration workflows on a real Temporal server (the time-skipping one: owners'
 * deadlines and retention pass in moments), their activities stubbed by each test. Tests drive
 * them only through the messages of src/workflows/definitions.ts and read what the API would show.
 */

let environment: Promise<TestWorkflowEnvironment> | undefined;

/** One server for every workflow test of the run, torn down by the root hooks. */
export function workflowEnvironment(): Promise<TestWorkflowEnvironment> {
  environment ??= startTemporal('time-skipping');
  return environment;
}

export async function stopWorkflowEnvironment(): Promise<void> {
  const started = environment;
  environment = undefined;
  await (await started)?.teardown();
}

const dataConverter = encryptedDataConverter(parseEncryptionKeys(`workflow-tests:${newEncryptionKey()}`));

/** The test stack's integrations, parsed as the worker gets them; their addresses are never called here. */
const INTEGRATIONS = new Map(
  validateLetheConfig(
    testIntegrations('http://127.0.0.1:1', 'http://127.0.0.1:1', 'http://127.0.0.1:1', 'http://127.0.0.1:1'),
  ).integrations.map((i) => [i.id, i]),
);

export function integrationConfig(id: string): IntegrationConfig {
  const config = INTEGRATIONS.get(id);
  if (!config) throw new Error(`no test integration ${id}`);
  return config;
}

/** What a connector attempt throws, as the real activities do: the taxonomy's message and whether to try again. */
export { integrationFailure } from '../../src/activities';

/** Every connector call the workflows made, in order: which integration, phase and attempt. */
export type CallRecord = Pick<ConnectorCallInput, 'phase' | 'attempt' | 'accessRef'> & {
  integration: string;
};

export const recordOf = (input: ConnectorCallInput): CallRecord => ({
  integration: input.integration.id,
  phase: input.phase,
  attempt: input.attempt,
  ...(input.accessRef === undefined ? {} : { accessRef: input.accessRef }),
});

/** The activities a test does not care about: they succeed at once. */
function quietActivities(): Partial<LetheActivities> {
  return {
    callConnector: () => Promise.resolve({ done: true, count: 0 }),
    buildExport: (input) => Promise.resolve(`${input.request.id}/export.zip`),
    purgeRequestData: () => Promise.resolve(),
    sendOwnerRequest: () => Promise.resolve(),
    notifyOperators: () => Promise.resolve(),
    takeOverIntegration: () => Promise.resolve({ kind: 'none' as const }),
  };
}

export interface RequestUnderTest {
  handle: WorkflowHandle<typeof PrivacyRequestWorkflow>;
  /** What GET /v1/requests/:id would answer now (on the server's clock). */
  view(): Promise<RequestView>;
  /** Until the view satisfies `accept`; it, then. */
  until(accept: (view: RequestView) => boolean, what: string): Promise<RequestView>;
}

/**
 * Runs `body` with a worker of the workflows whose activities are `activities` (the others
 * succeed at once), and a way to start requests on it.
 */
export async function withWorker<T>(
  activities: Partial<LetheActivities>,
  body: (start: (request: Partial<PrivacyRequestInput>) => Promise<RequestUnderTest>) => Promise<T>,
): Promise<T> {
  const env = await workflowEnvironment();
  const taskQueue = `workflow-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { ...quietActivities(), ...activities },
    dataConverter,
  });
  const client = new Client({ connection: env.connection, dataConverter });
  const start = async (request: Partial<PrivacyRequestInput>): Promise<RequestUnderTest> => {
    const id = `req_${randomUUID().replaceAll('-', '').slice(0, 26)}`;
    const input: PrivacyRequestInput = {
      id,
      type: 'access',
      regulation: 'gdpr',
      requestDate: new Date(await env.currentTimeMs()).toISOString(),
      triggerType: 'api',
      autoProcess: false,
      subject: { email: 'jane.doe@example.com' },
      integrations: [],
      retention: '30d',
      ...request,
    };
    const handle = await client.workflow.start(PrivacyRequestWorkflow, {
      workflowId: id,
      taskQueue,
      args: [input],
    });
    const view = async () =>
      presentRequest(await handle.query(getRequestQuery), new Date(await env.currentTimeMs()));
    return {
      handle,
      view,
      until: (accept, what) => eventually(view, accept, { what, timeoutMs: 15_000, intervalMs: 50 }),
    };
  };
  return worker.runUntil(() => body(start));
}
