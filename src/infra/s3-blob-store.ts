import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { checkBlobKey, checkRequestId, newBlobKey, type BlobStore } from './blob-store';

/**
 * The blob store for production: one S3 bucket (or any S3-compatible store), one prefix per
 * request. A PUT is atomic in S3: a reader sees the whole object or none.
 */
export class S3BlobStore implements BlobStore {
  private readonly s3: S3Client;

  constructor(
    private readonly bucket: string,
    config: S3ClientConfig = {},
  ) {
    this.s3 = new S3Client(config);
  }

  async put(requestId: string, content: Buffer | string, extension: string): Promise<string> {
    const key = newBlobKey(requestId, extension);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: typeof content === 'string' ? Buffer.from(content, 'utf8') : content,
      }),
    );
    return key;
  }

  async get(key: string): Promise<Buffer> {
    return Buffer.from(await (await this.body(key)).transformToByteArray());
  }

  async open(key: string): Promise<Readable> {
    // In Node, the SDK's body is an http.IncomingMessage.
    return (await this.body(key)) as unknown as Readable;
  }

  private async body(key: string) {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: checkBlobKey(key) }));
    if (!object.Body) throw new Error(`blob ${key} has no body`);
    return object.Body;
  }

  async deleteRequest(requestId: string): Promise<void> {
    const prefix = `${checkRequestId(requestId)}/`;
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) {
        await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys } }));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  destroy(): void {
    this.s3.destroy();
  }
}
