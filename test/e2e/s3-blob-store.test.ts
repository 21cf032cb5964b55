import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
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
import {
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { blobStoreFor } from '../../src/config/blob-store';
import { loadEnvironment } from '../../src/config/environment';
import { CallLog, type CallLogEntry } from '../../src/infra/call-log';
import { BlobJournal } from '../../src/infra/journal';
import { S3BlobStore } from '../../src/infra/s3-blob-store';
import { createVersionedBucket, startS3Server, type S3Server } from '../../scripts/s3-server';

function environmentFor(endpoint: string) {
  return loadEnvironment({
    LETHE_DATA_DIR: os.tmpdir(),
    LETHE_TOKEN_SECRET: 'test-secret-test-secret-test-secret-0123',
    LETHE_BLOB_STORE: 's3',
    LETHE_S3_BUCKET: 'lethe-test',
    LETHE_S3_ENDPOINT: endpoint,
  });
}

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
    const chosen = blobStoreFor(environmentFor(endpoint));
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

  it('keeps the connector journal under the request’s prefix, in order, and deletes it with the request', async () => {
    const journal = new BlobJournal(store);
    const key = {
      requestId: 'req_s3journal',
      integrationId: 'crm',
      phase: 'access',
      purpose: 'find',
    } as const;
    for (let page = 1; page <= 12; page += 1) await journal.append(key, { page });
    assert.deepEqual(
      await new BlobJournal(blobStoreFor(environmentFor(endpoint))).read(key),
      Array.from({ length: 12 }, (_, i) => ({ page: i + 1 })),
      'another worker reads it back',
    );
    await store.deleteRequest('req_s3journal');
    assert.deepEqual(await journal.read(key), []);
  });

  it('keeps the call log under the request’s prefix: the API reads what any worker wrote, and the purge deletes it', async () => {
    const entry = (attempt: number): CallLogEntry => ({
      time: new Date().toISOString(),
      attempt,
      phase: 'access',
      method: 'GET',
      url: '/contacts?email=[redacted]',
      status: 503,
      excerpt: null,
      error: null,
    });
    const worker = new CallLog(store);
    await worker.append('req_s3calls', 'crm', [entry(1), entry(1)]);
    await worker.append('req_s3calls', 'crm', [entry(2)]);
    const api = new CallLog(blobStoreFor(environmentFor(endpoint)));
    const logOf = async (integration: string) => {
      let text = '';
      for await (const piece of api.document('req_s3calls', integration, { integration })) text += piece;
      return JSON.parse(text) as { integration: string; entries: CallLogEntry[] };
    };
    assert.deepEqual(
      (await logOf('crm')).entries.map((e) => e.attempt),
      [1, 1, 2],
    );
    assert.deepEqual(await logOf('batch'), { integration: 'batch', entries: [] });
    await store.deleteRequest('req_s3calls');
    assert.deepEqual(await logOf('crm'), { integration: 'crm', entries: [] });
  });

  it('refuses keys and request ids it did not make', async () => {
    await assert.rejects(store.get('../etc/passwd'), /not a blob key/);
    await assert.rejects(store.put('../x', 'x', 'txt'), /blob keys are made of/);
    await assert.rejects(store.deleteRequest(''), /not a request id/);
  });
});

describe('the S3 blob store, against a versioned bucket (moto on 127.0.0.1)', function () {
  this.timeout(60_000);
  let moto: S3Server;
  let s3: S3Client;
  let store: S3BlobStore;

  before(async () => {
    moto = await startS3Server();
    process.env.AWS_ACCESS_KEY_ID = 'moto';
    process.env.AWS_SECRET_ACCESS_KEY = 'moto';
    s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1' });
    await createVersionedBucket(moto.endpoint, 'lethe-test');
    store = blobStoreFor(environmentFor(moto.endpoint)) as S3BlobStore;
  });
  after(() => {
    store?.destroy();
    s3?.destroy();
    void moto?.stop();
  });

  const versionsUnder = async (prefix: string) => {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'lethe-test', Prefix: prefix }));
    return [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`);
  };

  it('deletes every version and delete marker of the request, and nothing of another', async () => {
    const records = await store.put('req_versioned', '[{"email":"v.subject@example.com"}]', 'json');
    await store.put('req_versioned', 'export', 'zip');
    await new BlobJournal(store).append(
      { requestId: 'req_versioned', integrationId: 'crm', phase: 'access', purpose: 'find' },
      { page: 1 },
    );
    // An object deleted before the purge lives on as an old version behind a delete marker.
    await s3.send(new DeleteObjectCommand({ Bucket: 'lethe-test', Key: records }));
    const theirs = await store.put('req_versionkept', 'still here', 'txt');
    assert.ok((await versionsUnder('req_versioned/')).length >= 4, 'versions and a delete marker');

    await store.deleteRequest('req_versioned');

    assert.deepEqual(await versionsUnder('req_versioned/'), [], 'no version, no marker left');
    assert.equal((await store.get(theirs)).toString('utf8'), 'still here');
    assert.equal((await versionsUnder('req_versionkept/')).length, 1);
  });

  it('deletes versions that straddle a page of the listing (1,000 entries), leaving none behind', async () => {
    // 999 single versions sort before the key written three times, so its versions cross the page.
    for (let batch = 0; batch < 999; batch += 50)
      await Promise.all(
        Array.from({ length: Math.min(50, 999 - batch) }, (_, i) =>
          s3.send(
            new PutObjectCommand({
              Bucket: 'lethe-test',
              Key: `req_paged/a${String(batch + i).padStart(4, '0')}.json`,
              Body: 'x',
            }),
          ),
        ),
      );
    for (const body of ['v1', 'v2', 'v3'])
      await s3.send(new PutObjectCommand({ Bucket: 'lethe-test', Key: 'req_paged/b.json', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: 'lethe-test', Key: 'req_paged/c.json', Body: 'gone' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'lethe-test', Key: 'req_paged/c.json' }));

    await store.deleteRequest('req_paged');

    assert.deepEqual(await versionsUnder('req_paged/'), [], 'no version, no marker left');
  });
});

describe('the S3 blob store, against an S3 that refuses to delete some objects (127.0.0.1)', function () {
  this.timeout(30_000);
  let server: http.Server;
  let store: S3BlobStore;
  const KEY = 'req_stubborn/00000000-0000-4000-8000-000000000000.json';

  before(async () => {
    // Lists one object (current and as a version), and answers every DeleteObjects with that key in Errors.
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      res.setHeader('Content-Type', 'application/xml');
      if (req.method === 'GET' && url.searchParams.has('versions')) {
        return void res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult><Name>lethe-test</Name><Prefix>req_stubborn/</Prefix><IsTruncated>false</IsTruncated><Version><Key>${KEY}</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest></Version></ListVersionsResult>`,
        );
      }
      if (req.method === 'GET') {
        return void res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>lethe-test</Name><Prefix>req_stubborn/</Prefix><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>${KEY}</Key></Contents></ListBucketResult>`,
        );
      }
      if (req.method === 'POST' && url.searchParams.has('delete')) {
        req.resume();
        return void req.on('end', () =>
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><DeleteResult><Error><Key>${KEY}</Key><VersionId>v1</VersionId><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>`,
          ),
        );
      }
      res.statusCode = 400;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    process.env.AWS_ACCESS_KEY_ID = 'stubborn';
    process.env.AWS_SECRET_ACCESS_KEY = 'stubborn';
    store = blobStoreFor(environmentFor(`http://127.0.0.1:${port}`)) as S3BlobStore;
  });
  after(async () => {
    store?.destroy();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fails the purge (so the activity retries) when DeleteObjects answers errors', async () => {
    await assert.rejects(store.deleteRequest('req_stubborn'), /did not delete 1 of 1 objects.*AccessDenied/);
  });
});
