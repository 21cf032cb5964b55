import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { describeConfigIssues } from '../domain';

/** Lethe's environment (contract section 7), validated once at start-up. */
const environmentSchema = z.object({
  LETHE_API_KEYS: z.string().default(''),
  LETHE_HOST: z.string().default('127.0.0.1'),
  LETHE_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  LETHE_DATA_DIR: z.string().default('.data'),
  LETHE_INTEGRATIONS: z.string().default('config/integrations.yaml'),
  LETHE_PUBLIC_URL: z.url().optional(),
  SMTP_URL: z.string().optional(),
  LETHE_MAIL_FROM: z.string().default('Lethe <lethe@localhost>'),
  /** Signs owner links; shared by the worker (which mails them) and the API (which checks them). */
  LETHE_TOKEN_SECRET: z.string().min(32).optional(),
  /** Where records, uploads and exports are kept: the data folder, or an S3 bucket. */
  LETHE_BLOB_STORE: z.enum(['file', 's3']).default('file'),
  LETHE_S3_BUCKET: z.string().min(3).optional(),
  /** An S3-compatible endpoint (MinIO, a test server); unset: AWS. Credentials: the AWS SDK's usual sources. */
  LETHE_S3_ENDPOINT: z.url().optional(),
  LETHE_S3_REGION: z.string().default('us-east-1'),
});

export interface Environment {
  apiKeys: string[];
  host: string;
  port: number;
  temporalAddress: string;
  namespace: string;
  dataDir: string;
  integrationsFile: string;
  publicUrl: string;
  smtpUrl?: string;
  mailFrom: string;
  tokenSecret: string;
  blobStore: { kind: 'file' } | { kind: 's3'; bucket: string; endpoint?: string; region: string };
}

/**
 * Without a configured secret, one is made once and kept in the data folder, so links survive
 * restarts. The worker and the API may both start at once: the file appears whole or not at all.
 */
export function tokenSecretIn(dataDir: string): string {
  const file = path.join(dataDir, 'owner-token-secret');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, randomBytes(32).toString('hex'), { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(draft);
    }
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32)
    throw new Error(`${file} holds no usable secret: delete it, or set LETHE_TOKEN_SECRET`);
  return secret;
}

export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`Invalid environment:\n  ${describeConfigIssues(parsed.error).join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.LETHE_BLOB_STORE === 's3' && !e.LETHE_S3_BUCKET) {
    throw new Error('Invalid environment:\n  LETHE_S3_BUCKET: required when LETHE_BLOB_STORE is s3');
  }
  const dataDir = path.resolve(e.LETHE_DATA_DIR);
  return {
    apiKeys: e.LETHE_API_KEYS.split(',')
      .map((k) => k.trim())
      .filter(Boolean),
    host: e.LETHE_HOST,
    port: e.LETHE_PORT,
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    dataDir,
    integrationsFile: path.resolve(e.LETHE_INTEGRATIONS),
    publicUrl: (e.LETHE_PUBLIC_URL ?? `http://127.0.0.1:${e.LETHE_PORT}`).replace(/\/$/, ''),
    smtpUrl: e.SMTP_URL || undefined,
    mailFrom: e.LETHE_MAIL_FROM,
    tokenSecret: e.LETHE_TOKEN_SECRET ?? tokenSecretIn(dataDir),
    blobStore:
      e.LETHE_BLOB_STORE === 's3'
        ? { kind: 's3', bucket: e.LETHE_S3_BUCKET!, endpoint: e.LETHE_S3_ENDPOINT, region: e.LETHE_S3_REGION }
        : { kind: 'file' },
  };
}
