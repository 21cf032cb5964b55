import type { IntegrationView, RequestView } from '../../src/domain';
import type { InjectedFault } from '../../src/sandbox/controls';
import { call, eventually, type HttpResult } from './http';
import { TASK_QUEUE } from '../../src/workflows/definitions';
import { getStack, type ServerKind, type Stack } from './stack';

/** Test steps phrased as an operator would: create a request, read it, wait for an integration's state. */
export class LetheApi {
  /** An API to call, and the SMTP server its owners' emails reach, if the test reads them. */
  constructor(private readonly stack: { apiUrl: string; smtp?: Stack['smtp'] }) {}

  async create(body: unknown, headers: Record<string, string> = {}): Promise<RequestView> {
    const res = await call<RequestView>(this.stack.apiUrl, 'POST', '/v1/requests', { body, headers });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async get(id: string): Promise<RequestView> {
    const request = await this.read(id);
    if (!request) throw new Error('get failed: 503, the engine cannot answer right now');
    return request;
  }

  /** The request; undefined on a 503 (the engine restarting, say), which means "try again". */
  private async read(id: string): Promise<RequestView | undefined> {
    const res = await call<RequestView>(this.stack.apiUrl, 'GET', `/v1/requests/${id}`);
    if (res.status === 503) return undefined;
    if (res.status !== 200) throw new Error(`get failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  post(path: string, body: unknown = {}) {
    return call(this.stack.apiUrl, 'POST', path, { body });
  }

  /** The newest email to `to` about this request (of this phase, if given), once it has arrived. */
  async ownerMail(requestId: string, to: string, phase?: 'access' | 'deletion') {
    const word = phase && (phase === 'access' ? 'Data access' : 'Data deletion');
    const mails = await eventually(
      async () =>
        (this.stack.smtp?.inbox ?? []).filter(
          (m) => m.to.includes(to) && m.subject.includes(requestId) && (!word || m.subject.includes(word)),
        ),
      (found) => found.length > 0,
      { what: `an email to ${to} about ${requestId}` },
    );
    return mails[mails.length - 1]!;
  }

  /** Answers as the owner would: through the link in the email they received. */
  async answerAsOwner(
    requestId: string,
    to: string,
    answer: unknown,
    phase?: 'access' | 'deletion',
  ): Promise<HttpResult> {
    const link = new URL(ownerLinkIn((await this.ownerMail(requestId, to, phase)).text));
    return call(link.origin, 'POST', link.pathname, { body: answer, key: null });
  }

  /** Waits until the request satisfies `accept` (a 503 meanwhile means "not yet"), and returns it. */
  async until(
    id: string,
    accept: (request: RequestView) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<RequestView> {
    const request = await eventually(
      () => this.read(id),
      (r) => r !== undefined && accept(r),
      { what, timeoutMs },
    );
    return request!;
  }

  untilIntegration(
    id: string,
    integrationId: string,
    phase: 'access' | 'deletion',
    expected: { state: string; detail: string | null },
    timeoutMs = 20_000,
  ): Promise<RequestView> {
    return this.until(
      id,
      (request) => {
        const view = integration(request, integrationId)[phase];
        return view?.state === expected.state && view.detail === expected.detail;
      },
      `${integrationId} ${phase} to be ${expected.state} / ${expected.detail}`,
      timeoutMs,
    );
  }
}

export function integration(request: RequestView, id: string): IntegrationView {
  const found = request.integrations.find((i) => i.id === id);
  if (!found) throw new Error(`request ${request.id} has no integration ${id}`);
  return found;
}

/** `{state, detail}` of one phase, for deep-equal assertions. */
export function phaseOf(request: RequestView, id: string, phase: 'access' | 'deletion') {
  const view = integration(request, id)[phase];
  return view && { state: view.state, detail: view.detail };
}

/** The owner's link, taken from the real email the owner received. */
export function ownerLinkIn(text: string): string {
  const match = /https?:\/\/\S+\/owner\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(text);
  if (!match) throw new Error(`no owner link in: ${text}`);
  return match[0];
}

/** The suite's stack and API, ready once the suite's `before` hook has run. */
export function useStack(kind: ServerKind = 'dev'): { readonly stack: Stack; readonly lethe: LetheApi } {
  const suite = {} as { stack: Stack; lethe: LetheApi };
  before(async function () {
    this.timeout(120_000);
    suite.stack = await getStack(kind);
    suite.lethe = new LetheApi(suite.stack);
  });
  return suite;
}

/** Makes the sandbox CRM misbehave as told, for the next matching calls. */
export function injectCrmFault(stack: Stack, fault: InjectedFault): Promise<HttpResult> {
  return call(stack.crmUrl, 'POST', '/_sandbox/faults', { body: fault, key: null });
}

/** Until the sandbox CRM has used every fault injected: the faulty call has started. */
export async function untilCrmFaultsUsed(stack: Stack, what: string): Promise<void> {
  await eventually(
    async () => stack.crm.faults.length,
    (left) => left === 0,
    { what },
  );
}

/** An access request to the CRM whose first search hangs for 8 s: answers once that call has started. */
export async function accessWithSlowCrmCall(
  suite: { readonly stack: Stack; readonly lethe: LetheApi },
  email: string,
): Promise<RequestView> {
  await injectCrmFault(suite.stack, { delay_ms: 8000, times: 1, method: 'GET', path: '/contacts' });
  const created = await suite.lethe.create({ type: 'access', subject: { email }, integrations: ['crm'] });
  await untilCrmFaultsUsed(suite.stack, 'the slow call to start');
  return created;
}

let sweeps = 0;

/**
 * Runs the retention sweep as its hourly schedule would (the time-skipping server runs no
 * schedules): answers how many requests it purged.
 */
export function sweepRetention(stack: Stack, retention = '30d'): Promise<number> {
  return stack.client.workflow.execute('RetentionSweepWorkflow', {
    workflowId: `test-retention-sweep-${Date.now()}-${sweeps++}`,
    taskQueue: TASK_QUEUE,
    args: [{ retention }],
  });
}
