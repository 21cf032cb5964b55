import assert from 'node:assert/strict';
import { loadIntegrationsFile, validateLetheConfig } from '../../src/config/integrations-file';
import { parseDuration, parseLetheConfig, statusOnStart } from '../../src/domain';

const api = {
  id: 'crm',
  name: 'CRM',
  type: 'api',
  connector: 'http',
  options: { base_url: 'http://127.0.0.1:4010', find: { path: '/contacts', records_path: 'data' } },
};
const owner = {
  id: 'dw',
  name: 'Warehouse',
  type: 'direct_contact',
  owner: { name: 'Dana', email: 'dana@example.com' },
};

describe('the integrations configuration', () => {
  it('fills in the defaults of contract section 6', () => {
    const config = parseLetheConfig({ integrations: [api, owner] });
    const [crm, dw] = config.integrations;
    assert.equal(crm?.stage, 1);
    assert.equal(crm?.start, 'auto');
    assert.equal(crm?.access, true);
    assert.equal(crm?.deletion, 'records');
    assert.equal(crm?.disconnected, false);
    assert.equal(dw?.type === 'direct_contact' && dw.deadline, '14d');
    assert.equal(dw?.type === 'direct_contact' && dw.on_no_response, 'skip');
  });

  const invalid: [string, unknown, string][] = [
    ['no integrations', { integrations: [] }, 'integrations: must name at least one integration'],
    ['unknown type', { integrations: [{ ...api, type: 'ftp' }] }, 'integrations[0].type'],
    ['bad id', { integrations: [{ ...api, id: 'CRM!' }] }, 'integrations[0].id'],
    [
      'duplicate id',
      { integrations: [api, { ...owner, id: 'crm' }] },
      'integrations[1].id: duplicate integration id "crm"',
    ],
    ['stage 0', { integrations: [{ ...api, stage: 0 }] }, 'integrations[0].stage'],
    ['bad start', { integrations: [{ ...api, start: 'later' }] }, 'integrations[0].start'],
    ['bad deletion', { integrations: [{ ...api, deletion: 'some' }] }, 'integrations[0].deletion'],
    [
      'owner without email',
      { integrations: [{ ...owner, owner: { name: 'Dana' } }] },
      'integrations[0].owner.email',
    ],
    ['bad deadline', { integrations: [{ ...owner, deadline: 'two weeks' }] }, 'integrations[0].deadline'],
    [
      'bad on_no_response',
      { integrations: [{ ...owner, on_no_response: 'wait' }] },
      'integrations[0].on_no_response',
    ],
    ['unknown field', { integrations: [{ ...api, password: 'hunter2' }] }, 'integrations[0]'],
    ['bad operators email', { operators: { email: 'ops' }, integrations: [api] }, 'operators.email'],
    ['unknown connector', { integrations: [{ ...api, connector: 'soap' }] }, 'unknown connector "soap"'],
    [
      'inline secret in connector options',
      { integrations: [{ ...api, options: { ...api.options, auth: { type: 'bearer', token: 'abc' } } }] },
      'integration "crm" options.auth',
    ],
    [
      'connector options without find',
      { integrations: [{ ...api, options: { base_url: 'http://127.0.0.1' } }] },
      'integration "crm" options.find',
    ],
  ];
  for (const [name, raw, mentions] of invalid) {
    it(`refuses ${name}, naming the field`, () => {
      assert.throws(
        () => validateLetheConfig(raw),
        (error: Error) =>
          error.message.includes(mentions) || assert.fail(`"${error.message}" should name ${mentions}`),
      );
    });
  }

  it('the default integrations file is valid', () => {
    const config = loadIntegrationsFile('config/integrations.yaml');
    assert.deepEqual(
      config.integrations.map((i) => i.id),
      ['crm', 'batch', 'app-db', 'support-db', 'warehouse'],
    );
  });
});

describe('parseDuration', () => {
  const rows: [string, number][] = [
    ['250ms', 250],
    ['90s', 90_000],
    ['5m', 300_000],
    ['36h', 129_600_000],
    ['14d', 1_209_600_000],
  ];
  for (const [text, ms] of rows) it(text, () => assert.equal(parseDuration(text), ms));
  for (const bad of ['14', 'd', '1.5h', '-1d', '2 weeks']) {
    it(`refuses ${bad}`, () => assert.throws(() => parseDuration(bad)));
  }
});

describe('what an integration shows as its workflow starts', () => {
  const rows: [string, Record<string, unknown>, string][] = [
    ['API, started by itself', api, 'submitted'],
    ['API, started by an operator', { ...api, start: 'manual' }, 'not_started'],
    ['API, disconnected', { ...api, disconnected: true }, 'not_started'],
    ['direct contact', owner, 'not_started'],
    ['direct contact, started by an operator', { ...owner, start: 'manual' }, 'not_started'],
  ];
  for (const [what, raw, kind] of rows) {
    it(`${what}: ${kind}`, () => {
      const [config] = parseLetheConfig({ integrations: [raw] }).integrations;
      assert.deepEqual(statusOnStart(config!), { kind });
    });
  }
});
