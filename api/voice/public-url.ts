// The absolute URLs a hosted call's answers name (actions, event URLs): the public base URL behind a
// proxy, else the origin the request came to, as signatures are checked.
import type { Context } from 'hono';
import type { WebhookSettings } from '../deps.js';

export type Query = Record<string, string | number | undefined>;

/** The public base of the request (no trailing slash). */
export const publicBase = (settings: WebhookSettings, c: Context): string =>
  (settings.publicBaseUrl ?? new URL(c.req.url).origin).replace(/\/+$/, '');

/** URLs under `prefix` (e.g. `/v1/voice/twilio`) with the given query; undefined values are left out. */
export function publicUrls(settings: WebhookSettings, prefix: string) {
  return (c: Context, path: string, q: Query): string => {
    const url = new URL(`${publicBase(settings, c)}${prefix}${path}`);
    for (const [k, v] of Object.entries(q)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  };
}
