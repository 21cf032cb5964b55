import assert from 'node:assert/strict';
import fc from 'fast-check';
import { API_ERRORS } from '../../src/api/errors';
import { REQUEST_STATES, REQUEST_TYPES } from '../../src/domain';
import { PrivacyRequestWorkflow } from '../../src/workflows';
import { ownerLinkIn, useStack } from '../support/lethe';
import { API_KEY } from '../support/stack';

/**
 * Property-based: thousands of malformed bodies, headers, ids and tokens sent to every route.
 * Never a 5xx, never a workflow started, every answer the contract's error body.
 */
describe('fuzzing every route with malformed input', function () {
  this.timeout(180_000);
  const suite = useStack();
  const RUNS = 250;
  const CASE_TIMEOUT_MS = 10_000;
  let sent = 0;
  let ownerLink: URL;
  let existingRequest: string;

  before(async function () {
    this.timeout(60_000);
    // One real request whose owner waits: tokens and bodies are fuzzed against a live form too.
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'fuzz.target@example.com' },
      integrations: ['warehouse'],
    });
    existingRequest = created.id;
    ownerLink = new URL(
      ownerLinkIn((await suite.lethe.ownerMail(created.id, 'dana.owner@example.com')).text),
    );
  });

  after(() => console.log(`      ${sent} fuzz cases sent`));

  const started = async () =>
    (await suite.stack.temporal.client.workflow.count(`WorkflowType = '${PrivacyRequestWorkflow.name}'`))
      .count;

  /** Sends one case and checks the answer: 4xx, and the contract's error body. */
  async function expectContractError(
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<void> {
    sent += 1;
    let res: Response;
    let text: string;
    // A case the API never answers fails as itself, not as the whole test's timeout.
    const signal = AbortSignal.timeout(CASE_TIMEOUT_MS);
    try {
      res = await fetch(`${suite.stack.apiUrl}${path}`, { method, ...init, signal });
      text = await res.text();
    } catch (error) {
      if (signal.aborted) {
        assert.fail(
          `${method} ${path} ${JSON.stringify(init).slice(0, 300)}: no answer in ${CASE_TIMEOUT_MS} ms`,
        );
      }
      // fetch itself refuses some header values: nothing reached the server.
      if (error instanceof TypeError) return;
      throw error;
    }
    assert.ok(
      res.status >= 400 && res.status < 500,
      `${method} ${path} → ${res.status}: ${text.slice(0, 300)}`,
    );
    if (res.headers.get('content-type')?.includes('text/html')) return;
    const body = JSON.parse(text) as { error?: { code?: unknown; name?: unknown; message?: unknown } };
    const name = body.error?.name as keyof typeof API_ERRORS;
    assert.ok(name in API_ERRORS, `${method} ${path}: not a contract error: ${text.slice(0, 300)}`);
    assert.equal(body.error?.code, API_ERRORS[name].code);
    assert.equal(typeof body.error?.message, 'string');
  }

  const json = fc.jsonValue().map((v) => JSON.stringify(v));
  const junk = fc.oneof(json, fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }));
  const segment = fc
    .string({ minLength: 1, maxLength: 60, unit: 'grapheme' })
    .map((s) => encodeURIComponent(s))
    // "." and ".." are resolved by the URL itself before anything is sent.
    .filter((s) => s !== '.' && s !== '..');
  const fakeRequestId = fc
    .oneof(segment, fc.stringMatching(/^req_[a-z0-9]{26}$/))
    .filter((id) => id !== existingRequest);
  const headers = fc.dictionary(
    fc.constantFrom('Content-Type', 'Idempotency-Key', 'Accept', 'X-Namespace', 'Content-Encoding'),
    fc.string({ maxLength: 80 }),
  );
  const key = { 'X-Authorization': API_KEY };
  /** A create body that is wrong somewhere: a missing, unknown or mistyped field. */
  const badCreateBody = fc.oneof(
    junk,
    fc
      .record(
        {
          type: fc.oneof(fc.constantFrom('access', 'deletion'), fc.string(), fc.integer()),
          subject: fc.oneof(fc.jsonValue(), fc.record({ email: fc.string() })),
          regulation: fc.oneof(fc.string(), fc.boolean()),
          integrations: fc.oneof(fc.array(fc.string()), fc.string()),
          auto_process: fc.oneof(fc.string(), fc.integer()),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  );

  /** What the list route takes; everything else must be refused. */
  const validListParameter = (name: string, value: string) => {
    if (name === 'status') return ['pending', 'done'].includes(value);
    if (name === 'type') return (REQUEST_TYPES as readonly string[]).includes(value);
    if (name === 'state') return (REQUEST_STATES as readonly string[]).includes(value);
    if (name === 'limit') return /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 100;
    // A page_token the fuzzer makes up is never one Temporal made.
    return false;
  };

  const property = (arbitrary: fc.Arbitrary<() => Promise<void>>) =>
    fc.assert(
      fc.asyncProperty(arbitrary, (run) => run()),
      // The first counterexample is reported as found: shrinking slow cases would outlast the test.
      { numRuns: RUNS, endOnFailure: true },
    );

  it('POST /v1/requests, GET /v1/requests and GET /v1/requests/:id', async () => {
    const before = await started();
    await property(
      fc.tuple(badCreateBody, headers).map(
        ([body, h]) =>
          () =>
            expectContractError('POST', '/v1/requests', {
              body,
              headers: { ...h, 'Content-Type': h['Content-Type'] ?? 'application/json', ...key },
            }),
      ),
    );
    await property(
      fc
        .dictionary(
          fc.constantFrom('status', 'type', 'state', 'limit', 'page_token', 'x'),
          fc.string({ minLength: 1 }),
          {
            minKeys: 1,
          },
        )
        .filter((q) => Object.entries(q).some(([k, v]) => !validListParameter(k, v)))
        .map(
          (q) => () => expectContractError('GET', `/v1/requests?${new URLSearchParams(q)}`, { headers: key }),
        ),
    );
    // Page tokens in next_page_token's own shape (payload.signature), and ids Temporal would be asked about.
    await property(
      fc
        .tuple(fc.base64String({ minLength: 8 }), fc.base64String({ minLength: 4 }))
        .map(([a, b]) => `${a}.${b}`.replace(/[+/=]/g, '_'))
        .map((t) => () => expectContractError('GET', `/v1/requests?page_token=${t}`, { headers: key })),
    );
    await property(
      fakeRequestId.map((id) => () => expectContractError('GET', `/v1/requests/${id}`, { headers: key })),
    );
    // Keys themselves: missing, wrong, odd.
    await property(
      fc
        .string({ maxLength: 100 })
        .map(
          (k) => () =>
            expectContractError('GET', '/v1/requests', { headers: k ? { 'X-Authorization': k } : {} }),
        ),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await started(), before, 'no workflow started');
  });

  it('selection, actions, error log and export of requests that do not exist, or with bad bodies', async () => {
    await property(
      fc
        .tuple(
          fakeRequestId,
          junk,
          fc.constantFrom('selection', 'integrations/crm/stop', 'integrations/x/retry'),
        )
        .map(
          ([id, body, route]) =>
            () =>
              expectContractError('POST', `/v1/requests/${id}/${route}`, {
                body,
                headers: { 'Content-Type': 'application/json', ...key },
              }),
        ),
    );
    await property(
      fc.tuple(fc.oneof(junk, fc.constant('{}')), segment).map(
        ([body, action]) =>
          () =>
            expectContractError('POST', `/v1/requests/${existingRequest}/integrations/${action}/${action}`, {
              body,
              headers: { 'Content-Type': 'application/json', ...key },
            }),
      ),
    );
    await property(
      fc
        .tuple(fc.array(fc.string({ maxLength: 70 }), { minLength: 1, maxLength: 5 }), segment)
        .filter(([ids]) => ids.some((id) => !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id)))
        .map(
          ([ids, iid]) =>
            () =>
              Promise.all([
                expectContractError('POST', `/v1/requests/${existingRequest}/selection`, {
                  body: JSON.stringify({ integrations: ids }),
                  headers: { 'Content-Type': 'application/json', ...key },
                }),
                expectContractError('POST', `/v1/requests/${existingRequest}/integrations/${iid}/stop`, {
                  headers: key,
                }),
              ]).then(() => undefined),
        ),
    );
    await property(
      fc.tuple(fakeRequestId, segment).map(
        ([id, iid]) =>
          () =>
            expectContractError('GET', `/v1/requests/${id}/integrations/${iid}/error-log`, { headers: key }),
      ),
    );
    await property(
      fakeRequestId.map(
        (id) => () => expectContractError('GET', `/v1/requests/${id}/export`, { headers: key }),
      ),
    );
  });

  it('owner, export and codec links with forged tokens; the live owner form with malformed answers', async () => {
    const token = fc.oneof(
      segment,
      fc.tuple(fc.base64String(), fc.base64String()).map(([a, b]) => `${a}.${b}`.replace(/[+/=]/g, '_')),
    );
    await property(token.map((t) => () => expectContractError('GET', `/owner/${t}`)));
    await property(
      fc.tuple(token, junk).map(
        ([t, body]) =>
          () =>
            expectContractError('POST', `/owner/${t}`, { body }),
      ),
    );
    await property(token.map((t) => () => expectContractError('GET', `/exports/${t}`)));
    await property(
      fc.tuple(token, junk).map(
        ([t, body]) =>
          () =>
            expectContractError('POST', `/codec/${t}/decode`, { body }),
      ),
    );
    await property(
      junk.map(
        (body) => () =>
          expectContractError('POST', '/codec/decode', {
            body,
            headers: { 'Content-Type': 'application/json', ...key },
          }),
      ),
    );
    const answers = new Set(['{"answer":"no_data"}']);
    await property(
      fc
        .tuple(
          junk.filter((b) => !answers.has(b)),
          fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'),
        )
        .filter(([body, type]) => !(type.includes('urlencoded') && /(^|&)answer=no_data(&|$)/.test(body)))
        .map(
          ([body, type]) =>
            () =>
              expectContractError('POST', ownerLink.pathname, { body, headers: { 'Content-Type': type } }),
        ),
    );
    const view = await suite.lethe.get(existingRequest);
    assert.equal(view.integrations[0]!.access.state, 'Processing', 'the owner’s task is untouched');
  });
});
