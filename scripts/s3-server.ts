/**
 * moto's S3 server (installed by `make tools`) on 127.0.0.1: the shared blob store of the cluster
 * and the S3 blob store's tests, with a versioned bucket as production's should be.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, stopProcess } from './processes';

const ROOT = path.resolve(__dirname, '..');

/** moto takes any credentials; the AWS SDK wants some. */
export const S3_SERVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'moto', AWS_SECRET_ACCESS_KEY: 'moto' };

export interface S3Server {
  process: ChildProcess;
  endpoint: string;
  stop(): Promise<void>;
}

export async function startS3Server(port?: number): Promise<S3Server> {
  const chosen = port ?? (await freePort());
  const executable = path.join(ROOT, '.tools/venv/bin/moto_server');
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(chosen)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${chosen}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${executable} exited: run \`make tools\``);
    const answers = await fetch(endpoint).then(
      () => true,
      () => false,
    );
    if (answers) return { process: child, endpoint, stop: () => stopProcess(child) };
    if (Date.now() > deadline) throw new Error('moto_server did not answer in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A bucket that keeps versions: a purge must then delete every version, which the store does. */
export async function createVersionedBucket(endpoint: string, bucket: string): Promise<void> {
  const s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: {
      accessKeyId: S3_SERVER_CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: S3_SERVER_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  } finally {
    s3.destroy();
  }
}
