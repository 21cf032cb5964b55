import path from 'node:path';
import { FileBlobStore, type BlobStore } from '../infra/blob-store';
import { S3BlobStore } from '../infra/s3-blob-store';
import type { Environment } from './environment';

/** The blob store the environment names; the worker and the API must name the same one. */
export function blobStoreFor(environment: Environment): BlobStore {
  const store = environment.blobStore;
  if (store.kind === 'file') return new FileBlobStore(path.join(environment.dataDir, 'blobs'));
  return new S3BlobStore(store.bucket, {
    region: store.region,
    // S3-compatible stores address buckets by path, and many do not take the SDK's newer
    // streaming checksums: send checksums only where S3 requires them.
    ...(store.endpoint
      ? {
          endpoint: store.endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
  });
}
