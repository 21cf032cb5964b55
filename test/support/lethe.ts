import type { IntegrationView, RequestView } from '../../src/domain';
import { call, eventually } from './http';
import type { Stack } from './stack';

/** Test steps phrased as an operator would: create a request, read it, wait for an integration's state. */
export class LetheApi {
  constructor(private readonly stack: Stack) {}

  async create(body: unknown, headers: Record<string, string> = {}): Promise<RequestView> {
    const res = await call<RequestView>(this.stack.apiUrl, 'POST', '/v1/requests', { body, headers });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async get(id: string): Promise<RequestView> {
    const res = await call<RequestView>(this.stack.apiUrl, 'GET', `/v1/requests/${id}`);
    if (res.status !== 200) throw new Error(`get failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  post(path: string, body: unknown = {}) {
    return call(this.stack.apiUrl, 'POST', path, { body });
  }

  /** Waits until the request satisfies `accept`, and returns it. */
  until(
    id: string,
    accept: (request: RequestView) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<RequestView> {
    return eventually(() => this.get(id), accept, { what, timeoutMs });
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
