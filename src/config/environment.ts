import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { describeConfigIssues } from '../domain';
import { newEncryptionKey, parseEncryptionKeys, type EncryptionKeys } from '../infra/payload-codec';
import type { SecretList } from '../infra/signed-token';
import { LOG_LEVELS, type LogLevel } from '../infra/logger';
import type { SecretSource } from '../activities/connectors';

/** Comma-separated secrets, newest first, as `LETHE_ENCRYPTION_KEYS` lists keys (see SecretList). */
const secretList = (characters: RegExp, which: string) => {
  const secret = z
    .string()
    .min(32, 'each secret has at least 32 characters')
    .regex(characters, `each secret is made of ${which}`);
  return z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(secret).min(1, 'at least one secret'))
    .refine((list) => new Set(list).size === list.length, 'a secret appears twice')
    .transform((list) => list as unknown as SecretList);
};
const tokenSecrets = secretList(/^[^\s]+$/, 'characters other than spaces');
// The Web UI sends it as a path segment of the codec endpoint's URL.
const codecSecrets = secretList(/^[A-Za-z0-9._~-]+$/, 'letters, digits and . _ ~ -');
/** Unset and empty are the same: `VAR=` in a shell or a compose file means "not configured". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/**
 * Secrets that are generated into the data folder when not configured, for development; in
 * production (NODE_ENV=production) each must be set, since a generated one would differ between
 * hosts and live next to the data it protects.
 */
export const PRODUCTION_SECRETS = [
  'LETHE_ENCRYPTION_KEYS',
  'LETHE_TOKEN_SECRET',
  'LETHE_CODEC_SECRET',
] as const;

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
  NODE_ENV: z.string().optional(),
  /**
   * Signs owner, export and page links; shared by the worker (which mails owner links) and the
   * API (which checks them). A list, newest first.
   */
  LETHE_TOKEN_SECRET: optional(tokenSecrets),
  /** The Web UI's codec endpoint path secret(s), any of which opens `/codec/<secret>/…`. */
  LETHE_CODEC_SECRET: optional(codecSecrets),
  /**
   * Encrypts every payload stored in Temporal: `id:base64key` pairs, newest first. Unset: a
   * development key is generated into the data folder (and `make dev` says so).
   */
  LETHE_ENCRYPTION_KEYS: optional(z.string()),
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
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** The worker's /healthz, /readyz and /metrics; unset: not served. */
  LETHE_WORKER_HEALTH_PORT: optional(z.coerce.number().int().min(0).max(65535)),
  /** The SDK's own Prometheus exporter (task latencies, slots, polls), `host:port`; unset: off. */
  LETHE_WORKER_SDK_METRICS: optional(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')),
  /**
   * How many workflows a worker keeps in memory (the SDK's default follows the heap size): what
   * bounds its memory when thousands of requests wait on owners. The rest replay when they wake.
   */
  LETHE_WORKER_CACHED_WORKFLOWS: optional(z.coerce.number().int().min(1)),
  /** A prebuilt workflow bundle (the tests', the bench's) starts in a second instead of bundling anew. */
  LETHE_WORKFLOW_BUNDLE: optional(z.string().min(1)),
});

/** Every variable Lethe reads, for the documentation of its configuration to be checked against. */
export const ENVIRONMENT_VARIABLES = Object.keys(environmentSchema.shape);

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
  tokenSecrets: SecretList;
  codecSecrets: SecretList;
  /** Where the codec secret is set, for operators (the secret itself is never logged). */
  codecSecretSource: string;
  encryptionKeys: EncryptionKeys;
  /** True when no keys were configured and the generated development key is in use. */
  developmentEncryptionKey: boolean;
  codecOrigins: string[];
  rateLimits: { perKey: number; perAddress: number; failedKeysPerAddress: number };
  trustProxy: TrustProxy;
  blobStore: { kind: 'file' } | { kind: 's3'; bucket: string; endpoint?: string; region: string };
  logLevel: LogLevel;
  worker: {
    healthPort?: number;
    sdkMetricsAddress?: string;
    maxCachedWorkflows?: number;
    workflowBundle?: string;
  };
  /**
   * Connectors' credentials, by the variable the integrations file names (never written there). A
   * missing one is found when the connector needs it: its integration is then disconnected.
   */
  connectorSecrets: SecretSource;
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

/** The files development secrets are generated into, by the variable that would set them. */
const GENERATED_SECRET_FILES = {
  LETHE_TOKEN_SECRET: 'owner-token-secret',
  LETHE_CODEC_SECRET: 'codec-secret',
} as const;

function generatedSecretsIn(
  dataDir: string,
  variable: keyof typeof GENERATED_SECRET_FILES,
  schema: ReturnType<typeof secretList>,
): SecretList {
  const file = GENERATED_SECRET_FILES[variable];
  const parsed = schema.safeParse(generatedSecretIn(dataDir, file, () => randomBytes(32).toString('hex')));
  if (!parsed.success)
    throw new Error(`${path.join(dataDir, file)} holds no usable secret: delete it, or set ${variable}`);
  return parsed.data;
}

/** The file holding the development encryption key, when none is configured. */
export const DEVELOPMENT_KEY_FILE = 'development-encryption-key';

function encryptionKeysOf(configured: string | undefined, dataDir: string): EncryptionKeys {
  if (configured) return parseEncryptionKeys(configured);
  return parseEncryptionKeys(
    generatedSecretIn(dataDir, DEVELOPMENT_KEY_FILE, () => `dev:${newEncryptionKey()}`),
  );
}

/** What production lacks: every unset secret, named, so one start-up tells the operator all of them. */
export function missingProductionSecrets(env: NodeJS.ProcessEnv): string[] {
  if (env.NODE_ENV !== 'production') return [];
  return PRODUCTION_SECRETS.filter((name) => !env[name]?.trim()).map(
    (name) => `${name}: required when NODE_ENV is production (nothing is generated in production)`,
  );
}

export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const parsed = environmentSchema.safeParse(env);
  const problems = [
    ...missingProductionSecrets(env),
    ...(parsed.success ? [] : describeConfigIssues(parsed.error)),
  ];
  if (!parsed.success || problems.length > 0) {
    throw new Error(`Invalid environment:\n  ${problems.join('\n  ')}`);
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
    tokenSecrets: e.LETHE_TOKEN_SECRET ?? generatedSecretsIn(dataDir, 'LETHE_TOKEN_SECRET', tokenSecrets),
    codecSecrets: e.LETHE_CODEC_SECRET ?? generatedSecretsIn(dataDir, 'LETHE_CODEC_SECRET', codecSecrets),
    codecSecretSource: e.LETHE_CODEC_SECRET
      ? 'the first secret of LETHE_CODEC_SECRET'
      : `the secret in ${path.join(dataDir, GENERATED_SECRET_FILES.LETHE_CODEC_SECRET)}`,
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
    logLevel: e.LOG_LEVEL,
    worker: {
      healthPort: e.LETHE_WORKER_HEALTH_PORT,
      sdkMetricsAddress: e.LETHE_WORKER_SDK_METRICS,
      maxCachedWorkflows: e.LETHE_WORKER_CACHED_WORKFLOWS,
      workflowBundle: e.LETHE_WORKFLOW_BUNDLE,
    },
    connectorSecrets: (variable) => env[variable],
  };
}
