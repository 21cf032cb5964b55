import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
// s3rver ships no types; it is only the S3-compatible server these tests talk to.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
};
import { blobStoreFor } from '../../src/config/blob-store';
import { loadEnvironment } from '../../src/config/environment';
import { S3BlobStore } from '../../src/infra/s3-blob-store';

describe('the S3 blob store, against an S3-compatible server on 127.0.0.1', function () {
  this.timeout(30_000);
  let server: InstanceType<typeof S3rver>;
  let folder: string;
  let endpoint: string;
  let store: S3BlobStore;

  before(async () => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'lethe-s3-'));
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: folder,
      configureBuckets: [{ name: 'lethe-test' }],
    });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    const environment = loadEnvironment({
      LETHE_DATA_DIR: folder,
      LETHE_TOKEN_SECRET: 'test-secret-test-secret-test-secret-0123',
      LETHE_BLOB_STORE: 's3',
      LETHE_S3_BUCKET: 'lethe-test',
      LETHE_S3_ENDPOINT: endpoint,
    });
    const chosen = blobStoreFor(environment);
    assert.ok(chosen instanceof S3BlobStore, 'LETHE_BLOB_STORE=s3 selects the S3 store');
    store = chosen;
  });
  after(async () => {
    store?.destroy();
    await server?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('keeps blobs under generated keys, per request, and gives them back byte for byte', async () => {
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256));
    const key = await store.put('req_s3test', binary, 'bin');
    assert.match(key, /^req_s3test\/[0-9a-f-]{36}\.bin$/);
    assert.ok((await store.get(key)).equals(binary));
    // What downloads stream.
    const chunks: Buffer[] = [];
    for await (const chunk of await store.open(key)) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(binary));
    const text = await store.put('req_s3test', '[{"id":1}]', 'json');
    assert.equal((await store.get(text)).toString('utf8'), '[{"id":1}]');
  });

  it('streams uploads in, in parts when large, and deletes one blob on its own', async () => {
    const large = Buffer.from(Array.from({ length: 12 * 1024 * 1024 }, (_, i) => (i * 7) % 256));
    const small = Buffer.from('a small upload');
    const stored = await Promise.all(
      [large, small].map((content) =>
        store.putStream(
          'req_s3stream',
          Readable.from([content.subarray(0, 1000), content.subarray(1000)]),
          'bin',
        ),
      ),
    );
    assert.deepEqual(
      stored.map((s) => s.size),
      [large.length, small.length],
    );
    assert.ok((await store.get(stored[0]!.key)).equals(large), 'the parts make the whole');
    assert.ok((await store.get(stored[1]!.key)).equals(small));
    await store.delete(stored[0]!.key);
    await assert.rejects(store.get(stored[0]!.key));
    assert.ok((await store.get(stored[1]!.key)).equals(small));
  });

  it('deletes everything of one request, and nothing of another', async () => {
    const mine = await Promise.all([1, 2, 3].map((n) => store.put('req_gone', `blob ${n}`, 'txt')));
    const theirs = await store.put('req_kept', 'still here', 'txt');
    await store.deleteRequest('req_gone');
    for (const key of mine) await assert.rejects(store.get(key));
    assert.equal((await store.get(theirs)).toString('utf8'), 'still here');
  });

  it('refuses keys and request ids it did not make', async () => {
    await assert.rejects(store.get('../etc/passwd'), /not a blob key/);
    await assert.rejects(store.put('../x', 'x', 'txt'), /blob keys are made of/);
    await assert.rejects(store.deleteRequest(''), /not a request id/);
  });
});
