// Request and response schemas of accounts and their keys.
import { z } from '@hono/zod-openapi';
import { accountId, accountQuery, text } from './schemas.js';

/** Money as a decimal string with at most 6 places: never a JSON number, which binary floating point rounds. */
export const decimal = z
  .string()
  .regex(/^\d{1,12}(\.\d{1,6})?$/, 'a non-negative decimal string like "25.50", at most 12 digits before the point and 6 after');

export const AccountParam = z.object({ accountId: accountId.openapi({ param: { name: 'accountId', in: 'path' } }) });
export const KeyParam = AccountParam.extend({
  keyId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'keyId', in: 'path' } }),
});
/** The platform key names the account it acts in; an account's own key may name only its own. */
export const AccountQuery = z.object({ accountId: accountQuery });

const limits = z
  .object({
    concurrentCalls: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .nullable()
      .optional()
      .openapi({ description: 'open (ringing or active) calls at once; null removes the limit' }),
  })
  .strict();
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code like USD');
const name = text().trim().min(1).max(200);

export const AccountBody = z
  .object({ accountId: accountId.optional(), name, limits: limits.optional(), credits: decimal.optional(), currency: currency.optional() })
  .strict()
  .openapi('NewAccount');
export const AccountPatch = z
  .object({
    name: name.optional(),
    limits: limits.optional(),
    currency: currency.optional(),
    status: z.enum(['active', 'suspended']).optional(),
  })
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), { message: 'give at least one field to change' })
  .openapi('AccountPatch');
export const AccountSchema = z
  .object({
    accountId: z.string(),
    name: z.string(),
    status: z.enum(['active', 'suspended']),
    limits: z.object({ concurrentCalls: z.number().int().nullable().optional() }),
    credits: z.string(),
    currency: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Account');
export const AccountList = z.object({ accounts: z.array(AccountSchema) }).openapi('AccountList');

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export const KeyBody = z
  .object({ name, role: z.enum(ROLES) })
  .strict()
  .openapi('NewKey');
export const KeySchema = z
  .object({
    keyId: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('Key');
export const NewKeySchema = KeySchema.extend({
  key: z.string().openapi({ description: 'the secret (cwk_...): shown only in this answer, stored only as a hash' }),
}).openapi('KeyWithSecret');
export const KeyList = z.object({ keys: z.array(KeySchema) }).openapi('KeyList');
