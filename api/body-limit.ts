// Hono's bodyLimit reads `c.req.raw.body`, which makes @hono/node-server build a full web Request around
// the socket, and every body read after it goes through web streams: on the webhook path that cost more
// than the signature check. A declared Content-Length decides without touching the body; a body of
// unknown length (chunked, or a Request built in-process) is counted as it streams by Hono's own.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit as streamedBodyLimit } from 'hono/body-limit';

export function bodyLimit(maxSize: number, onError: (c: Context) => never): MiddlewareHandler {
  const streamed = streamedBodyLimit({ maxSize, onError });
  return async function bodyLimit(c, next) {
    // No route reads a GET's or HEAD's body.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    // Node's HTTP parser has already refused a malformed Content-Length.
    if (Number(length) > maxSize) onError(c);
    await next();
  };
}
