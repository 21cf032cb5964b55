import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEnvironment, missingProductionSecrets } from '../../src/config/environment';
import { newEncryptionKey } from '../../src/infra/payload-codec';
import { signToken, verifyToken, type SecretList } from '../../src/infra/signed-token';

const A = 'secret-a-secret-a-secret-a-secret-a-0001';
const B = 'secret-b-secret-b-secret-b-secret-b-0002';
const C = 'secret-c-secret-c-secret-c-secret-c-0003';
const KEYS = `k1:${newEncryptionKey()}`;

describe('secrets are lists: the first signs, every one verifies', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(path.join(os.tmpdir(), 'lethe-secrets-unit-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  const load = (env: NodeJS.ProcessEnv) => loadEnvironment({ LETHE_DATA_DIR: dataDir, ...env });

  const lists: [string, string, string[]][] = [
    ['LETHE_TOKEN_SECRET', A, [A]],
    ['LETHE_TOKEN_SECRET', `${B},${A}`, [B, A]],
    ['LETHE_TOKEN_SECRET', ` ${B} , ${A} ,`, [B, A]],
    ['LETHE_CODEC_SECRET', `${C},${A}`, [C, A]],
  ];
  for (const [variable, text, expected] of lists) {
    it(`${variable}="${text.slice(0, 24)}…" is ${expected.length} secret(s), in order`, () => {
      const environment = load({ [variable]: text });
      const secrets = variable === 'LETHE_TOKEN_SECRET' ? environment.tokenSecrets : environment.codecSecrets;
      assert.deepEqual(secrets, expected);
    });
  }

  const refused: [string, string, RegExp][] = [
    ['LETHE_TOKEN_SECRET', 'too-short', /LETHE_TOKEN_SECRET\[0\]: each secret has at least 32 characters/],
    ['LETHE_TOKEN_SECRET', `${A},short`, /LETHE_TOKEN_SECRET\[1\]: each secret has at least 32 characters/],
    ['LETHE_TOKEN_SECRET', `${A},${A}`, /LETHE_TOKEN_SECRET: a secret appears twice/],
    ['LETHE_TOKEN_SECRET', ' , ', /LETHE_TOKEN_SECRET: at least one secret/],
    ['LETHE_CODEC_SECRET', `${A}/../x`, /LETHE_CODEC_SECRET\[0\]: each secret is made of letters, digits/],
    ['LETHE_CODEC_SECRET', `${A}?x=1`, /LETHE_CODEC_SECRET\[0\]: each secret is made of letters, digits/],
  ];
  for (const [variable, text, problem] of refused) {
    it(`refuses ${variable}="${text.slice(0, 24)}…": ${problem.source}`, () => {
      assert.throws(() => load({ [variable]: text }), problem);
    });
  }

  it('unset or empty, outside production: one secret of each kind is generated into the data folder, and kept', () => {
    const first = load({ LETHE_TOKEN_SECRET: '', LETHE_CODEC_SECRET: undefined });
    assert.equal(first.tokenSecrets.length, 1);
    assert.equal(first.codecSecrets.length, 1);
    assert.notEqual(first.tokenSecrets[0], first.codecSecrets[0]);
    assert.match(first.codecSecretSource, /codec-secret/);
    const again = load({});
    assert.deepEqual([again.tokenSecrets, again.codecSecrets], [first.tokenSecrets, first.codecSecrets]);
    assert.equal(load({ LETHE_CODEC_SECRET: C }).codecSecretSource, 'the first secret of LETHE_CODEC_SECRET');
  });

  const signed: [string, SecretList, SecretList, boolean][] = [
    ['the same secret', [A], [A], true],
    ['the old secret, now second', [A], [B, A], true],
    ['a secret since removed', [A], [B], false],
    ['the first of two (signs with the first)', [B, A], [B], true],
    ['the second of two (never signs)', [B, A], [A], false],
  ];
  for (const [what, signing, verifying, valid] of signed) {
    it(`a token signed with ${what} ${valid ? 'verifies' : 'is forged'}`, () => {
      const token = signToken('test', { r: 'x' }, Math.floor(Date.now() / 1000) + 60, signing);
      const check = verifyToken('test', token, verifying, new Date());
      assert.deepEqual(check.valid ? 'valid' : check.reason, valid ? 'valid' : 'forged');
    });
  }
});

describe('production (NODE_ENV=production) starts only with every secret set', () => {
  const all = { LETHE_ENCRYPTION_KEYS: KEYS, LETHE_TOKEN_SECRET: A, LETHE_CODEC_SECRET: C };
  const table: [string, NodeJS.ProcessEnv, string[]][] = [
    ['development, nothing set', {}, []],
    ['NODE_ENV=development, nothing set', { NODE_ENV: 'development' }, []],
    [
      'production, nothing set',
      { NODE_ENV: 'production' },
      ['LETHE_ENCRYPTION_KEYS', 'LETHE_TOKEN_SECRET', 'LETHE_CODEC_SECRET'],
    ],
    [
      'production, only the keys',
      { NODE_ENV: 'production', LETHE_ENCRYPTION_KEYS: KEYS },
      ['LETHE_TOKEN_SECRET', 'LETHE_CODEC_SECRET'],
    ],
    [
      'production, a secret set empty',
      { NODE_ENV: 'production', ...all, LETHE_CODEC_SECRET: ' ' },
      ['LETHE_CODEC_SECRET'],
    ],
    ['production, every secret set', { NODE_ENV: 'production', ...all }, []],
  ];
  for (const [what, env, missing] of table) {
    it(`${what}: ${missing.length ? `names ${missing.join(', ')}` : 'nothing missing'}`, () => {
      assert.deepEqual(
        missingProductionSecrets(env).map((problem) => problem.split(':')[0]),
        missing,
      );
    });
  }

  it('the error names every missing one at once, with any malformed one, and nothing is generated', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lethe-production-unit-'));
    try {
      assert.throws(
        () =>
          loadEnvironment({ NODE_ENV: 'production', LETHE_DATA_DIR: dataDir, LETHE_TOKEN_SECRET: 'short' }),
        (error: Error) => {
          for (const name of ['LETHE_ENCRYPTION_KEYS', 'LETHE_CODEC_SECRET', 'LETHE_TOKEN_SECRET[0]'])
            assert.ok(error.message.includes(`\n  ${name}: `), `${name} in: ${error.message}`);
          return true;
        },
      );
      assert.deepEqual(readdirSync(dataDir), []);
      const environment = loadEnvironment({ NODE_ENV: 'production', LETHE_DATA_DIR: dataDir, ...all });
      assert.deepEqual([environment.tokenSecrets, environment.codecSecrets], [[A], [C]]);
      assert.deepEqual(readdirSync(dataDir), []);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
