import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENVIRONMENT_VARIABLES, loadEnvironment } from '../../src/config/environment';

describe('the environment: LETHE_TRUST_PROXY', () => {
  // Unset keys and secrets are generated into the data folder: a folder of the test's own.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lethe-env-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = {
    LETHE_TOKEN_SECRET: 'x'.repeat(32),
    LETHE_DATA_DIR: dataDir,
    LETHE_ENCRYPTION_KEYS: undefined,
  };
  const cases: [string | undefined, unknown][] = [
    [undefined, false],
    ['', false],
    ['0', false],
    ['1', 1],
    ['2', 2],
    ['127.0.0.1', ['127.0.0.1']],
    ['10.0.0.0/8, fd00::/8,loopback', ['10.0.0.0/8', 'fd00::/8', 'loopback']],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(loadEnvironment({ ...base, LETHE_TRUST_PROXY: value }).trustProxy, expected);
    });
  }
  for (const value of ['true', 'yes', '10.0.0.0/33', '10.0.0.1/8/8', '1.2.3', 'loopback,*']) {
    it(`${JSON.stringify(value)} is refused, naming the variable`, () => {
      assert.throws(() => loadEnvironment({ ...base, LETHE_TRUST_PROXY: value }), /LETHE_TRUST_PROXY/);
    });
  }
});

describe('the environment: every variable through the one schema', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lethe-env-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { LETHE_TOKEN_SECRET: 'x'.repeat(32), LETHE_DATA_DIR: dataDir };

  const refused: [string, string][] = [
    ['LETHE_WORKER_CACHED_WORKFLOWS', 'x'],
    ['LETHE_WORKER_CACHED_WORKFLOWS', '0'],
    ['LETHE_WORKER_HEALTH_PORT', '99999'],
    ['LETHE_WORKER_HEALTH_PORT', 'nine'],
    ['LETHE_WORKER_SDK_METRICS', '9464'],
    ['LOG_LEVEL', 'loud'],
    ['LETHE_PORT', 'http'],
  ];
  for (const [variable, value] of refused) {
    it(`${variable}=${value} is refused, naming the variable`, () => {
      assert.throws(
        () => loadEnvironment({ ...base, [variable]: value }),
        (error: Error) => error.message.includes(`${variable}:`),
      );
    });
  }

  it('the worker’s settings and the log level are read from it, unset ones left unset', () => {
    const set = loadEnvironment({
      ...base,
      LOG_LEVEL: 'debug',
      LETHE_WORKER_HEALTH_PORT: '9001',
      LETHE_WORKER_SDK_METRICS: '127.0.0.1:9464',
      LETHE_WORKER_CACHED_WORKFLOWS: '250',
      LETHE_WORKFLOW_BUNDLE: '/tmp/bundle.js',
    });
    assert.equal(set.logLevel, 'debug');
    assert.deepEqual(set.worker, {
      healthPort: 9001,
      sdkMetricsAddress: '127.0.0.1:9464',
      maxCachedWorkflows: 250,
      workflowBundle: '/tmp/bundle.js',
    });
    const unset = loadEnvironment({ ...base, LETHE_WORKER_HEALTH_PORT: '' });
    assert.equal(unset.logLevel, 'info');
    assert.deepEqual(unset.worker, {
      healthPort: undefined,
      sdkMetricsAddress: undefined,
      maxCachedWorkflows: undefined,
      workflowBundle: undefined,
    });
  });

  it('connector credentials are read from the same environment, by the name the integration gives', () => {
    const environment = loadEnvironment({ ...base, CRM_TOKEN: 'secret' });
    assert.equal(environment.connectorSecrets('CRM_TOKEN'), 'secret');
    assert.equal(environment.connectorSecrets('OTHER_TOKEN'), undefined);
  });
});

describe('the environment: one list of variables', () => {
  it('names each variable Lethe reads, the worker’s and the log level’s included', () => {
    for (const variable of [
      'LETHE_WORKER_HEALTH_PORT',
      'LETHE_WORKER_CACHED_WORKFLOWS',
      'LOG_LEVEL',
      'LETHE_PORT',
    ])
      assert.ok(ENVIRONMENT_VARIABLES.includes(variable), variable);
  });
});
