import assert from 'node:assert/strict';
import { readdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileBlobStore } from '../../src/infra/blob-store';
import { BlobJournal, type JournalKey } from '../../src/infra/journal';

describe('the connector journal, kept in the blob store', () => {
  let root: string;
  let blobs: FileBlobStore;
  const key: JournalKey = { requestId: 'req_1', integrationId: 'crm', phase: 'access', purpose: 'find' };

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'lethe-journal-'));
    blobs = new FileBlobStore(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads back what was appended, in order, even many in one millisecond; nothing for a walk never begun', async () => {
    const journal = new BlobJournal(blobs);
    assert.deepEqual(await journal.read(key), []);
    for (let page = 1; page <= 50; page += 1) await journal.append(key, { page });
    assert.deepEqual(
      await journal.read(key),
      Array.from({ length: 50 }, (_, i) => ({ page: i + 1 })),
    );
    assert.deepEqual(await journal.read({ ...key, purpose: 'delete' }), [], 'each purpose apart');
    assert.deepEqual(await journal.read({ ...key, phase: 'deletion' }), [], 'each phase apart');
  });

  it('a worker reads the steps another wrote, and deleting the request deletes them', async () => {
    await new BlobJournal(blobs).append(key, { page: 1 });
    const elsewhere = new BlobJournal(new FileBlobStore(root));
    assert.deepEqual(await elsewhere.read(key), [{ page: 1 }]);
    await blobs.deleteRequest('req_1');
    assert.deepEqual(await elsewhere.read(key), []);
  });

  it('stops at an entry that does not parse', async () => {
    const journal = new BlobJournal(blobs);
    await journal.append(key, 3);
    const folder = path.join(root, 'req_1', 'entries', 'journal.crm.access.find');
    const [first] = await readdir(folder);
    await writeFile(path.join(folder, `${first!.slice(0, 17)}9-torn.json`), '{"records":[{"id"');
    await journal.append(key, 4);
    assert.deepEqual(await journal.read(key), [3]);
  });

  it('refuses keys that would leave its folder', async () => {
    const journal = new BlobJournal(blobs);
    for (const bad of ['..', '../x', 'a/b', '']) {
      await assert.rejects(journal.read({ ...key, requestId: bad }), /not a request id/);
      await assert.rejects(journal.append({ ...key, integrationId: bad }, 1), /not a journal key segment/);
    }
  });
});
