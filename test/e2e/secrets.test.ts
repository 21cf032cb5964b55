import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { exited, freePort, startLetheProcess, stopProcess } from '../../scripts/processes';
import { call, eventually } from '../support/http';
import { injectCrmFault, phaseOf, useStack } from '../support/lethe';
import { testIntegrations } from '../support/integrations';
import { API_KEY, CODEC_SECRET, ENCRYPTION_KEYS, TOKEN_SECRET } from '../support/stack';

const ROTATED_TOKEN_SECRET = 'rotated-token-secret-rotated-token-secret-01';
const ROTATED_CODEC_SECRET = 'rotated-codec-secret-rotated-codec-secret-01';
const PRODUCTION_SECRETS = ['LETHE_ENCRYPTION_KEYS', 'LETHE_TOKEN_SECRET', 'LETHE_CODEC_SECRET'];

/** A real Lethe process and everything it printed so far. */
interface Started {
  child: ChildProcess;
  output: () => string;
}

function started(child: ChildProcess): Started {
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { child, output: () => Buffer.concat(chunks).toString('utf8') };
}

/** The payloads of a history event as the codec protocol carries them (base64 JSON). */
const toWire = (p: temporal.api.common.v1.IPayload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

describe('secrets that can be rotated and are never printed', function () {
  this.timeout(120_000);
  const suite = useStack();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-secrets-'));
  const running: ChildProcess[] = [];
  /** The stack's secret second, as after a rotation; and the rotated one alone, once the old is removed. */
  let rotated: { url: string; lethe: Started };
  let removed: { url: string; lethe: Started };

  async function startApi(env: NodeJS.ProcessEnv): Promise<{ url: string; lethe: Started }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const integrations = path.join(scratch, 'integrations.json');
    const { stack } = suite;
    writeFileSync(
      integrations,
      JSON.stringify(testIntegrations(stack.crmUrl, stack.batchUrl, stack.crmUrl, stack.hostile.url)),
    );
    const lethe = started(
      startLetheProcess(
        'api',
        {
          NODE_ENV: '',
          LOG_LEVEL: 'info',
          TEMPORAL_ADDRESS: stack.temporal.address,
          LETHE_API_KEYS: API_KEY,
          LETHE_DATA_DIR: stack.dataDir,
          LETHE_INTEGRATIONS: integrations,
          LETHE_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
          LETHE_PORT: String(port),
          LETHE_PUBLIC_URL: url,
          ...env,
        },
        'source',
        'captured',
      ),
    );
    running.push(lethe.child);
    await eventually(
      async () => lethe.output(),
      (output) => output.includes('API listening') || lethe.child.exitCode !== null,
      { what: 'the API to listen', timeoutMs: 60_000 },
    );
    assert.equal(lethe.child.exitCode, null, `the API exited: ${lethe.output()}`);
    return { url, lethe };
  }

  before(async function () {
    this.timeout(120_000);
    [rotated, removed] = await Promise.all([
      startApi({
        LETHE_TOKEN_SECRET: `${ROTATED_TOKEN_SECRET},${TOKEN_SECRET}`,
        LETHE_CODEC_SECRET: `${ROTATED_CODEC_SECRET},${CODEC_SECRET}`,
      }),
      startApi({ LETHE_TOKEN_SECRET: ROTATED_TOKEN_SECRET, LETHE_CODEC_SECRET: ROTATED_CODEC_SECRET }),
    ]);
  });
  after(async function () {
    this.timeout(30_000);
    await Promise.all(running.map((child) => stopProcess(child)));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('an owner link signed with the old token secret opens while that secret is second in the list, and is refused once it is removed', async () => {
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'rotation.owner@example.com' },
      integrations: ['warehouse'],
    });
    const mail = await suite.lethe.ownerMail(created.id, 'dana.owner@example.com');
    const token = /\/owner\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
    assert.ok(token, 'the mail has the owner link');
    const stillValid = await call(rotated.url, 'GET', `/owner/${token}`, { key: null });
    assert.equal(stillValid.status, 200, JSON.stringify(stillValid.body).slice(0, 300));
    const refused = await call(removed.url, 'GET', `/owner/${token}`, { key: null });
    assert.equal(refused.status, 403);
  });

  it('an export link: the old one verifies second and is refused once removed; new links are signed with the first secret', async () => {
    suite.stack.crm.contacts.set('c_rotation', {
      id: 'c_rotation',
      email: 'rotation.export@example.com',
      kind: 'contact',
    });
    const created = await suite.lethe.create({
      type: 'access',
      auto_process: true,
      subject: { email: 'rotation.export@example.com' },
      integrations: ['crm'],
    });
    const request = await suite.lethe.until(created.id, (r) => r.closed && r.data_url !== null, 'the export');
    const oldLink = new URL(request.data_url!).pathname;
    const stillValid = await call(rotated.url, 'GET', oldLink, { key: null });
    assert.equal(stillValid.status, 200);
    assert.equal(stillValid.headers.get('content-type'), 'application/zip');
    assert.equal((await call(removed.url, 'GET', oldLink, { key: null })).status, 403);

    const fromRotated = await call(rotated.url, 'GET', `/v1/requests/${created.id}`);
    const newLink = new URL(fromRotated.body.data_url).pathname;
    assert.notEqual(newLink, oldLink);
    assert.equal((await call(removed.url, 'GET', newLink, { key: null })).status, 200);
  });

  it('the Web UI’s codec endpoint takes every codec secret in the list, and no removed one', async () => {
    const encoded = await call(suite.stack.apiUrl, 'POST', '/codec/encode', {
      body: { payloads: [{ metadata: { encoding: btoa('json/plain') }, data: btoa('"rotation"') }] },
    });
    assert.equal(encoded.status, 200);
    const decode = (url: string, secret: string) =>
      call(url, 'POST', `/codec/${secret}/decode`, { key: null, body: encoded.body });
    for (const secret of [ROTATED_CODEC_SECRET, CODEC_SECRET]) {
      const decoded = await decode(rotated.url, secret);
      assert.equal(decoded.status, 200);
      assert.equal(atob(decoded.body.payloads[0].data), '"rotation"');
    }
    assert.equal((await decode(removed.url, ROTATED_CODEC_SECRET)).status, 200);
    assert.equal((await decode(removed.url, CODEC_SECRET)).status, 401);
  });

  it('the API’s start-up log says where the codec secret is set, never the secret nor a working codec path', async () => {
    const output = rotated.lethe.output();
    assert.match(output, /API listening/);
    for (const secret of [ROTATED_CODEC_SECRET, CODEC_SECRET, ROTATED_TOKEN_SECRET, TOKEN_SECRET]) {
      assert.ok(!output.includes(secret), 'a secret is in the log');
    }
    // Whatever codec path the log shows must not open the codec without the secret.
    const logged = [...output.matchAll(/\/codec\/([A-Za-z0-9_~.-]+)/g)].map((m) => m[1]!);
    for (const token of logged) {
      const tried = await call(rotated.url, 'POST', `/codec/${token}/decode`, {
        key: null,
        body: { payloads: [] },
      });
      assert.notEqual(tried.status, 200, `the logged codec path /codec/${token} opens the codec`);
    }
    assert.match(output, /LETHE_CODEC_SECRET/);
  });

  it('in production (NODE_ENV=production) the API and the worker refuse to start without their secrets, naming every missing one, and generate nothing', async () => {
    for (const which of ['api', 'worker'] as const) {
      const dataDir = path.join(scratch, `production-${which}`);
      const lethe = started(
        startLetheProcess(
          which,
          {
            NODE_ENV: 'production',
            LETHE_DATA_DIR: dataDir,
            // Nothing listens there: a process that got past its configuration would fail later, differently.
            TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
            LETHE_INTEGRATIONS: path.resolve('config/integrations.yaml'),
            ...Object.fromEntries(PRODUCTION_SECRETS.map((name) => [name, undefined])),
          },
          'source',
          'captured',
        ),
      );
      running.push(lethe.child);
      await Promise.race([exited(lethe.child), new Promise((resolve) => setTimeout(resolve, 30_000))]);
      const output = lethe.output();
      assert.notEqual(lethe.child.exitCode, null, `the ${which} still runs: ${output}`);
      assert.notEqual(lethe.child.exitCode, 0);
      for (const name of PRODUCTION_SECRETS) {
        assert.ok(output.includes(name), `the ${which}'s error does not name ${name}: ${output}`);
      }
      assert.ok(!existsSync(dataDir) || readdirSync(dataDir).length === 0, 'a secret was generated');
    }
  });

  it('an integration’s failure message is not in clear text in Temporal’s history, and Lethe’s codec decodes it', async () => {
    await injectCrmFault(suite.stack, { status: 500, times: 1, method: 'GET', path: '/contacts' });
    const created = await suite.lethe.create({
      type: 'access',
      subject: { email: 'failure.message@example.com' },
      integrations: ['crm'],
    });
    const request = await suite.lethe.until(
      created.id,
      (r) => phaseOf(r, 'crm', 'access')?.state === 'Error',
      'the integration to fail',
    );
    // The workflow read the message back through the codec: Lethe shows it, not "Encoded failure".
    assert.deepEqual(phaseOf(request, 'crm', 'access'), { state: 'Error', detail: 'Internal Server Error' });
    const history = await suite.stack.temporal.client.workflow
      .getHandle(`${created.id}/crm/access`)
      .fetchHistory();
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
    assert.ok(!bytes.includes('Internal Server Error'), 'the failure message is stored in clear text');
    assert.ok(!bytes.includes('asIntegrationFailure'), 'the failure’s stack trace is stored in clear text');

    const failed = history.events?.find((e) => e.activityTaskFailedEventAttributes);
    const encodedAttributes = failed?.activityTaskFailedEventAttributes?.failure?.encodedAttributes;
    assert.ok(encodedAttributes, 'the failure carries encoded attributes');
    // As the Web UI asks: the endpoint's path secret, no API key.
    const decoded = await call(suite.stack.apiUrl, 'POST', `/codec/${CODEC_SECRET}/decode`, {
      key: null,
      body: { payloads: [toWire(encodedAttributes)] },
      headers: { Origin: 'http://127.0.0.1:8233' },
    });
    assert.equal(decoded.status, 200);
    const attributes = JSON.parse(Buffer.from(decoded.body.payloads[0].data, 'base64').toString('utf8'));
    assert.equal(attributes.message, 'Internal Server Error');
    assert.match(attributes.stack_trace, /asIntegrationFailure/);
  });
});
