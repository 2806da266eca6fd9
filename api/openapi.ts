// Helpers that keep route definitions short and every validation error in one shape.
import { OpenAPIHono, type z } from '@hono/zod-openapi';
import type { Env } from 'hono';
import { ApiError } from './errors.js';
import { ErrorSchema } from './schemas.js';

export function router<E extends Env>() {
  return new OpenAPIHono<E>({
    defaultHook: (result, c) => {
      // A required JSON body that is absent validates as {} (hono's validator), which an all-optional schema accepts.
      if (result.target === 'json' && !/^application\/([\w.+-]+\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
        throw new ApiError('invalid_request', 'invalid json', [{ path: '', message: 'a JSON request body is required' }]);
      }
      if (!result.success) {
        const details = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        throw new ApiError('invalid_request', `invalid ${result.target}`, details);
      }
    },
  });
}

export const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
export const body = <T extends z.ZodType>(schema: T, required = true) => ({ content: { 'application/json': { schema } }, required });

const err = (description: string) => json(ErrorSchema, description);
/** The error responses every authenticated route may give. */
export const errors = {
  400: err('invalid request'),
  401: err('missing or invalid credentials'),
  403: err('not your call, or operator only'),
  413: err('body too large'),
  429: err('rate limited'),
  503: err('a dependency is unavailable'),
};
/** Routes that act in an account the platform key may name (`accountId`): naming one that does not exist, or another's. */
export const noAccount = { 404: err('no such account (accountId), or not yours') };
export const callErrors = { ...errors, 404: err('no such call'), 409: err('the call has ended or is in the wrong state') };
export const bearer = [{ bearerAuth: [] }];
