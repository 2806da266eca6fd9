// Request and response schemas of accounts' provider credentials. Secrets go in and never come out.
import { z } from '@hono/zod-openapi';
import { PROVIDERS } from '../store/credentials.js';
import { AccountParam } from './account-schemas.js';
import { text } from './schemas.js';

/** At least 16 characters: the last 4 are shown as a hint, and must not be most of it. */
const secret = z.string().regex(/^\S{16,512}$/, '16 to 512 characters, no spaces');

export const ProviderParam = AccountParam.extend({
  provider: z.enum(PROVIDERS).openapi({ param: { name: 'provider', in: 'path' } }),
});

export const TwilioCredentialsBody = z
  .object({
    accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'an account SID: AC and 32 hex digits'),
    authToken: secret.openapi({ description: "verifies X-Twilio-Signature on the webhooks that carry this account's AccountSid" }),
  })
  .strict()
  .openapi('TwilioCredentials');
export const VonageCredentialsBody = z
  .object({
    signatureSecret: secret.openapi({ description: "verifies the JWT on Vonage's webhooks for the account's numbers" }),
    apiKey: z
      .string()
      .regex(/^[A-Za-z0-9]{1,64}$/, 'a Vonage API key')
      .optional()
      .openapi({ description: "the Vonage account's API key: a webhook naming no number is matched by its token's api_key claim" }),
  })
  .strict()
  .openapi('VonageCredentials');
export const ExotelCredentialsBody = z
  .object({
    webhookUser: text().regex(/^[^:]{1,200}$/, '1 to 200 characters, no ":" (HTTP Basic splits the user there)'),
    webhookPassword: secret,
  })
  .strict()
  .openapi('ExotelCredentials');
/** Each provider's body; which one applies is the path's `provider`. */
export const CREDENTIALS_BODY = { twilio: TwilioCredentialsBody, vonage: VonageCredentialsBody, exotel: ExotelCredentialsBody } as const;
export const CredentialsBody = z.union([TwilioCredentialsBody, VonageCredentialsBody, ExotelCredentialsBody]);

export const ProviderCredentialsSchema = z
  .object({
    provider: z.enum(PROVIDERS),
    set: z.literal(true),
    hint: z.string().openapi({ description: 'the last 4 characters of the auth token, signature secret or webhook password' }),
    updatedAt: z.string(),
  })
  .openapi('ProviderCredentials');
export const ProviderCredentialsList = z.object({ providers: z.array(ProviderCredentialsSchema) }).openapi('ProviderCredentialsList');
