// X-Signature of the generic feed: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`.
// The API verifies it on the feed it receives; the worker signs end-of-call reports with it.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Verdict = { ok: true } | { ok: false; reason: string };

export interface FeedKey {
  secret: string;
  toleranceSeconds: number;
}

/** The header a sender computes: end-of-call reports, tests and clients. */
export function signFeedBody(secret: string, body: string | Uint8Array, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${digest(secret, t, body).toString('hex')}`;
}

/** Checks the header against the raw body bytes, before anything parses them. */
export function verifyFeedSignature(key: FeedKey, header: string | undefined, body: Uint8Array, nowMs = Date.now()): Verdict {
  if (!key.secret) return { ok: false, reason: 'the event feed has no secret configured' };
  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed X-Signature' };
  if (Math.abs(nowMs / 1000 - parsed.t) > key.toleranceSeconds) return { ok: false, reason: 'X-Signature timestamp outside the tolerance' };
  const expected = digest(key.secret, parsed.t, body);
  // Several v1 values are allowed while a secret is being rotated.
  return parsed.v1.some((sig) => timingSafeEqual(sig, expected)) ? { ok: true } : { ok: false, reason: 'X-Signature does not match' };
}

function digest(secret: string, t: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest();
}

function parseHeader(header: string | undefined): { t: number; v1: Buffer[] } | null {
  if (!header || header.length > 1024) return null;
  let t: number | undefined;
  const v1: Buffer[] = [];
  for (const part of header.split(',')) {
    const match = /^\s*([a-z0-9]+)=([^=\s]+)\s*$/i.exec(part);
    if (!match) return null;
    const [, name, value] = match;
    if (name === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return null;
      t = Number(value);
    } else if (name === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return null;
      v1.push(Buffer.from(value, 'hex'));
    } // other schemes (v0, future versions) are ignored, as Stripe does
  }
  return t !== undefined && v1.length > 0 ? { t, v1 } : null;
}
