import { z } from 'zod';
import {
  ACCESS_ANSWERS,
  DELETION_ANSWERS,
  INTEGRATION_ACTIONS,
  integrationIdSchema,
  REGULATIONS,
  REQUEST_STATES,
  REQUEST_TYPES,
  SUBJECT_IDENTIFIERS,
  TRIGGER_TYPES,
  type SubjectIdentifier,
} from '../domain';
import { fromZodError } from './errors';

const identifier = z.string().trim().min(1).max(320);

/** One schema per identifier the domain names: an identifier added there is refused here until it has one. */
const identifierSchemas = {
  email: z.email().max(320),
  phone: z.string().regex(/^\+?[0-9 ()-]{4,32}$/, 'must be a phone number'),
  custom_id: identifier,
  advertising_id: identifier,
} satisfies Record<SubjectIdentifier, z.ZodType>;

export const subjectSchema = z
  .object(identifierSchemas)
  .partial()
  .extend({ name: z.string().trim().min(1).max(200).optional() })
  .strict()
  .superRefine((subject, ctx) => {
    if (!SUBJECT_IDENTIFIERS.some((key) => subject[key] !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: `needs at least one identifier: ${SUBJECT_IDENTIFIERS.join(', ')}`,
        params: { missing: true },
      });
    }
  });

export const createRequestSchema = z
  .object({
    type: z.enum(REQUEST_TYPES),
    subject: subjectSchema,
    regulation: z.enum(REGULATIONS).default('gdpr'),
    integrations: z.array(integrationIdSchema).min(1).max(500).optional(),
    auto_process: z.boolean().default(false),
    trigger_type: z.enum(TRIGGER_TYPES).default('api'),
  })
  .strict();
export type CreateRequestBody = z.infer<typeof createRequestSchema>;

export const REQUEST_ID_PATTERN = /^req_[a-z0-9]{26}$/;
/** For the API's description: a path whose id does not match is answered as no such request. */
export const requestIdSchema = z.string().regex(REQUEST_ID_PATTERN);

/** `Idempotency-Key`: a retried POST with the same one returns the same request. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, '1 to 255 printable ASCII characters')
  .optional();

export const listQuerySchema = z
  .object({
    status: z.enum(['pending', 'done']).optional(),
    type: z.enum(REQUEST_TYPES).optional(),
    state: z.enum(REQUEST_STATES as [string, ...string[]]).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    // The next_page_token of a previous page: a signed token (checked before Temporal is asked).
    page_token: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{8,1024}$/, 'not a next_page_token from a previous page')
      .optional(),
  })
  .strict();

export const selectionSchema = z.object({ integrations: z.array(integrationIdSchema).max(500) }).strict();

export const actionSchema = z.enum(INTEGRATION_ACTIONS);
export const actionBodySchema = z.object({ actor: z.string().trim().min(1).max(200).optional() }).strict();

export const OWNER_UPLOAD_LIMITS = { files: 20, bytesPerFile: 10 * 1024 * 1024 } as const;

/** Every answer an owner can give, in either phase (which fit which phase is the domain's rule). */
const OWNER_ANSWER_WORDS = [...new Set([...ACCESS_ANSWERS, ...DELETION_ANSWERS])];

export const ownerAnswerSchema = z.discriminatedUnion('answer', [
  z
    .object({
      answer: z.literal('files'),
      files: z
        .array(
          z
            .object({
              name: z.string().min(1).max(255),
              content_base64: z.base64(),
            })
            .strict(),
        )
        .min(1)
        .max(OWNER_UPLOAD_LIMITS.files, `at most ${OWNER_UPLOAD_LIMITS.files} files`),
    })
    .strict(),
  ...OWNER_ANSWER_WORDS.filter((a) => a !== 'files').map((answer) =>
    z.object({ answer: z.literal(answer) }).strict(),
  ),
]);

/** A form's answer: the word only, its files streamed to the blob store as the form was read. */
export const ownerFormAnswerSchema = z.object({ answer: z.enum(OWNER_ANSWER_WORDS) });
export type OwnerAnswerBody = z.infer<typeof ownerAnswerSchema>;

/** Parses input at the edge; a failure is the contract's 400 naming the field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error, value, where);
  return result.data;
}
