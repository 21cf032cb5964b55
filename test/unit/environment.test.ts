import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEnvironment } from '../../src/config/environment';

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
