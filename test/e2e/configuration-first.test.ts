import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exited, freePort, startLetheProcess } from '../../scripts/processes';
import { useStack } from '../support/lethe';

const ROOT = path.resolve(__dirname, '../..');

/** Its exit code and everything it printed. */
async function outcome(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await exited(child);
  return { code: child.exitCode, output };
}

describe('configuration first: a bad integrations file is reported before anything starts', function () {
  this.timeout(60_000);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-config-first-'));
  const badFile = path.join(scratch, 'integrations.yaml');
  let env: NodeJS.ProcessEnv;

  before(async () => {
    writeFileSync(
      badFile,
      ['integrations:', '  - id: Not An Id', '    name: CRM', '    type: api', '    connector: http'].join(
        '\n',
      ),
    );
    env = {
      LETHE_DATA_DIR: path.join(scratch, 'data'),
      LETHE_INTEGRATIONS: badFile,
      // Nothing listens there: a process that tried to reach Temporal first would say so instead.
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      NODE_ENV: '',
    };
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('`make dev` names the bad fields, starts no Temporal, and prints no banner', async () => {
    const dev = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'scripts/dev.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { code, output } = await outcome(dev);
    assert.equal(code, 1, output);
    assert.match(output, /integrations\[0\]\.id: must be lowercase letters/);
    assert.doesNotMatch(output, /Lethe is running|Try:|exited/);
    assert.equal(existsSync(path.join(scratch, 'data', 'temporal.db')), false, 'Temporal never started');
  });

  for (const which of ['worker', 'api'] as const) {
    it(`the ${which} names the bad fields and stops before it connects to Temporal`, async () => {
      const { code, output } = await outcome(startLetheProcess(which, env, 'source', 'captured'));
      assert.equal(code, 1, output);
      assert.match(output, /integrations\[0\]\.id: must be lowercase letters/);
      assert.doesNotMatch(output, /connect|ECONNREFUSED|transport/i);
    });
  }
});

describe('an API that cannot listen', function () {
  this.timeout(60_000);
  const suite = useStack();

  it('says so and exits 1, instead of logging "API listening" and leaving with 0', async () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'lethe-no-listen-'));
    try {
      const integrations = path.join(scratch, 'integrations.json');
      writeFileSync(integrations, JSON.stringify({ integrations: suite.stack.config.integrations }));
      const api = startLetheProcess(
        'api',
        {
          NODE_ENV: '',
          TEMPORAL_ADDRESS: suite.stack.temporal.address,
          LETHE_DATA_DIR: path.join(scratch, 'data'),
          LETHE_INTEGRATIONS: integrations,
          // TEST-NET-3: no interface of this machine has it.
          LETHE_HOST: '203.0.113.1',
          LETHE_PORT: String(await freePort()),
        },
        'source',
        'captured',
      );
      const { code, output } = await outcome(api);
      assert.equal(code, 1, output);
      assert.match(output, /the API cannot listen/);
      assert.doesNotMatch(output, /API listening/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
