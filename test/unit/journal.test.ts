import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileJournal, type JournalKey } from '../../src/infra/journal';

describe('the connector journal', () => {
  let root: string;
  const key: JournalKey = { requestId: 'req_1', integrationId: 'crm', phase: 'access', purpose: 'find' };

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'lethe-journal-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads back what was appended, in order; nothing for a walk never begun', async () => {
    const journal = new FileJournal(root);
    assert.deepEqual(await journal.read(key), []);
    await journal.append(key, { page: 1 });
    await journal.append(key, { page: 2 });
    assert.deepEqual(await journal.read(key), [{ page: 1 }, { page: 2 }]);
    assert.deepEqual(await journal.read({ ...key, purpose: 'delete' }), [], 'each purpose apart');
    await journal.clear(key);
    assert.deepEqual(await journal.read(key), []);
  });

  it('ignores a last line torn by a crash', async () => {
    const journal = new FileJournal(root);
    await journal.append(key, 3);
    await appendFile(path.join(root, 'req_1', 'crm.access.find.jsonl'), '{"records":[{"id"');
    assert.deepEqual(await journal.read(key), [3]);
  });

  it('refuses keys that would leave its folder', async () => {
    const journal = new FileJournal(root);
    for (const bad of ['..', '../x', 'a/b', '']) {
      await assert.rejects(journal.read({ ...key, requestId: bad }), /not a journal key segment/);
    }
  });
});
