import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { checkBlobKey, checkRequestId, newBlobKey, type BlobStore } from './blob-store';

/** S3's smallest part but the last: what a streamed upload holds in memory at most. */
const PART_BYTES = 5 * 1024 * 1024;

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

  /** Small streams in one PUT; larger ones in parts, as they arrive, so memory holds one part at most. */
  async putStream(
    requestId: string,
    content: Readable,
    extension: string,
  ): Promise<{ key: string; size: number }> {
    const key = newBlobKey(requestId, extension);
    const target = { Bucket: this.bucket, Key: key };
    let chunks: Buffer[] = [];
    let buffered = 0;
    let size = 0;
    let upload: { UploadId: string; parts: CompletedPart[] } | undefined;
    const sendPart = async () => {
      upload ??= {
        UploadId: (await this.s3.send(new CreateMultipartUploadCommand(target))).UploadId as string,
        parts: [],
      };
      const PartNumber = upload.parts.length + 1;
      const body = Buffer.concat(chunks);
      chunks = [];
      buffered = 0;
      const { ETag } = await this.s3.send(
        new UploadPartCommand({ ...target, UploadId: upload.UploadId, PartNumber, Body: body }),
      );
      upload.parts.push({ ETag, PartNumber });
    };
    try {
      for await (const chunk of content as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        buffered += chunk.length;
        size += chunk.length;
        if (buffered >= PART_BYTES) await sendPart();
      }
      if (!upload) {
        await this.s3.send(new PutObjectCommand({ ...target, Body: Buffer.concat(chunks) }));
        return { key, size };
      }
      if (buffered > 0) await sendPart();
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          ...target,
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: upload.parts },
        }),
      );
      return { key, size };
    } catch (error) {
      if (upload) {
        const { UploadId } = upload;
        await this.s3.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => undefined);
      }
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: checkBlobKey(key) }));
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
