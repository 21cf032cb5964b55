import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { describeConfigIssues } from '../domain';
import { newEncryptionKey, parseEncryptionKeys, type EncryptionKeys } from '../infra/payload-codec';

/** Express's `trust proxy`: how many proxies, or which, stand before the API; false: none. */
export type TrustProxy = number | string[] | false;

/** An address or subnet (`10.0.0.0/8`), or one of express's names for a range. */
function isProxyAddress(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

function trustProxyOf(value: string): TrustProxy {
  if (value === '') return false;
  if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
  return value.split(',').map((entry) => entry.trim());
}

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
  /**
   * Encrypts every payload stored in Temporal: `id:base64key` pairs, newest first. Unset: a
   * development key is generated into the data folder (and `make dev` says so).
   */
  LETHE_ENCRYPTION_KEYS: z.string().optional(),
  /** Origins of the Temporal Web UI allowed to call the codec endpoint (comma-separated). */
  LETHE_CODEC_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),
  /** Requests per minute per API key, and per client address on owner, export and codec links. */
  LETHE_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
  LETHE_PUBLIC_RATE_LIMIT: z.coerce.number().int().min(1).default(120),
  /** Wrong API keys per minute per client address, before every call from there is refused. */
  LETHE_FAILED_KEY_LIMIT: z.coerce.number().int().min(1).default(20),
  /** Behind a proxy: its hop count, or its addresses or subnets (comma-separated). Unset: no proxy. */
  LETHE_TRUST_PROXY: z
    .string()
    .trim()
    .default('')
    .refine(
      (value) =>
        value === '' || /^\d+$/.test(value) || value.split(',').every((e) => isProxyAddress(e.trim())),
      'a hop count, or comma-separated proxy addresses or subnets (e.g. 10.0.0.0/8, loopback)',
    ),
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
  encryptionKeys: EncryptionKeys;
  /** True when no keys were configured and the generated development key is in use. */
  developmentEncryptionKey: boolean;
  codecOrigins: string[];
  rateLimits: { perKey: number; perAddress: number; failedKeysPerAddress: number };
  trustProxy: TrustProxy;
  blobStore: { kind: 'file' } | { kind: 's3'; bucket: string; endpoint?: string; region: string };
}

/**
 * A secret that was not configured is made once and kept in the data folder, so links and
 * encrypted histories survive restarts. The worker and the API may both start at once: the file
 * appears whole or not at all.
 */
function generatedSecretIn(dataDir: string, name: string, make: () => string): string {
  const file = path.join(dataDir, name);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, make(), { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(draft);
    }
  }
  return readFileSync(file, 'utf8').trim();
}

export function tokenSecretIn(dataDir: string): string {
  const secret = generatedSecretIn(dataDir, 'owner-token-secret', () => randomBytes(32).toString('hex'));
  if (secret.length < 32)
    throw new Error(
      `${dataDir}/owner-token-secret holds no usable secret: delete it, or set LETHE_TOKEN_SECRET`,
    );
  return secret;
}

/** The file holding the development encryption key, when none is configured. */
export const DEVELOPMENT_KEY_FILE = 'development-encryption-key';

function encryptionKeysOf(configured: string | undefined, dataDir: string): EncryptionKeys {
  if (configured) return parseEncryptionKeys(configured);
  return parseEncryptionKeys(
    generatedSecretIn(dataDir, DEVELOPMENT_KEY_FILE, () => `dev:${newEncryptionKey()}`),
  );
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
    encryptionKeys: encryptionKeysOf(e.LETHE_ENCRYPTION_KEYS, dataDir),
    developmentEncryptionKey: !e.LETHE_ENCRYPTION_KEYS,
    codecOrigins: e.LETHE_CODEC_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    rateLimits: {
      perKey: e.LETHE_RATE_LIMIT,
      perAddress: e.LETHE_PUBLIC_RATE_LIMIT,
      failedKeysPerAddress: e.LETHE_FAILED_KEY_LIMIT,
    },
    trustProxy: trustProxyOf(e.LETHE_TRUST_PROXY),
    blobStore:
      e.LETHE_BLOB_STORE === 's3'
        ? { kind: 's3', bucket: e.LETHE_S3_BUCKET!, endpoint: e.LETHE_S3_ENDPOINT, region: e.LETHE_S3_REGION }
        : { kind: 'file' },
  };
}
