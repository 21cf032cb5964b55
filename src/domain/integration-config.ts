import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration';

export const durationSchema = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration such as 14d, 36h, 90s or 250ms')
  .refine((text) => !DURATION_PATTERN.test(text) || parseDuration(text) > 0, 'must be longer than zero');

/** How long a closed request's data is kept unless the configuration says otherwise. */
export const DEFAULT_RETENTION = '30d';

/** Secrets are named by environment variable in configuration, never written there. */
export const envVariableSchema = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable');

/** Retries of transient failures (408, 429, 502, 503, 504, connection refused or reset). */
export const retrySchema = z
  .object({
    initial_interval: durationSchema.default('1s'),
    max_interval: durationSchema.default('1m'),
    max_attempts: z.number().int().min(1).max(1000).default(8),
    max_elapsed: durationSchema.default('1d'),
  })
  .strict();

export const integrationIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "-" or "_" (at most 63)');

const common = {
  id: integrationIdSchema,
  name: z.string().min(1),
  stage: z.number().int().min(1).default(1),
  start: z.enum(['auto', 'manual']).default('auto'),
  access: z.boolean().default(true),
  deletion: z.enum(['records', 'full', 'skip']).default('records'),
  disconnected: z.boolean().default(false),
  /** The categories of personal data the system holds: what an `access_categories` request sends. */
  categories: z.array(z.string().min(1).max(200)).max(100).default([]),
};

export const apiIntegrationSchema = z
  .object({
    ...common,
    type: z.literal('api'),
    connector: z.string().min(1),
    /** Checked against the connector's own schema at start-up; secrets only as `*_env` references. */
    options: z.record(z.string(), z.unknown()).default({}),
    /**
     * Shared by every request: at most `per_second` calls to the service, at most `concurrency`
     * calls at once per worker. Unset: as fast as the requests come.
     */
    rate_limit: z
      .object({
        per_second: z.number().positive().max(10_000),
        concurrency: z.number().int().min(1).max(1000).default(1),
      })
      .strict()
      .optional(),
    // No retry section: every field's own default, written once in retrySchema.
    retry: retrySchema.prefault({}),
  })
  .strict();

export const directContactIntegrationSchema = z
  .object({
    ...common,
    type: z.literal('direct_contact'),
    owner: z.object({ name: z.string().min(1), email: z.email() }).strict(),
    deadline: durationSchema.default('14d'),
    /** The owner is reminded this long before the deadline (not at all if the deadline is sooner). */
    remind_before: durationSchema.default('3d'),
    on_no_response: z.enum(['skip', 'pause']).default('skip'),
  })
  .strict();

export const integrationConfigSchema = z.discriminatedUnion('type', [
  apiIntegrationSchema,
  directContactIntegrationSchema,
]);

export const letheConfigSchema = z
  .object({
    operators: z.object({ email: z.email() }).strict().optional(),
    /** How long after a request closes its data (records, uploads, export) is kept; then it is gone. */
    retention: durationSchema.default(DEFAULT_RETENTION),
    /** How long the export's `data_url` works without an API key. */
    export_link_expiry: durationSchema.default('7d'),
    integrations: z.array(integrationConfigSchema).min(1, 'must name at least one integration'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.integrations.forEach((integration, index) => {
      if (seen.has(integration.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['integrations', index, 'id'],
          message: `duplicate integration id "${integration.id}"`,
        });
      }
      seen.add(integration.id);
    });
  });

export type IntegrationConfig = z.infer<typeof integrationConfigSchema>;
export type ApiIntegrationConfig = z.infer<typeof apiIntegrationSchema>;
export type DirectContactIntegrationConfig = z.infer<typeof directContactIntegrationSchema>;
export type LetheConfig = z.infer<typeof letheConfigSchema>;
export type IntegrationType = IntegrationConfig['type'];

/** One line per problem, each naming the field, e.g. `integrations[1].owner.email: Invalid email address`. */
export function describeConfigIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path
      .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
      .join('');
    return `${path || '(root)'}: ${issue.message}`;
  });
}

export function parseLetheConfig(raw: unknown): LetheConfig {
  const result = letheConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new Error(
      `Invalid integrations configuration:\n  ${describeConfigIssues(result.error).join('\n  ')}`,
    );
  }
  return result.data;
}
