// Structured JSON logs (pino), or readable lines at a terminal (LOG_FORMAT=pretty, observability/pretty-log.ts).
// Phone numbers are masked to their last 4 digits and secrets never logged, in either format.
import { pino, type Logger } from 'pino';
import { prettyDestination } from './pretty-log.js';

const PHONE_KEYS = new Set([
  'from',
  'to',
  'From',
  'To',
  'Caller',
  'Called',
  'number',
  'callerNumber',
  'subject',
  'from_number',
  'to_number',
]);
const SECRET_KEYS = /authorization|token|secret|password|signature|api_?key/i;

/** "+15551234567" → "*******4567"; short or non-numeric handles keep only their last 4 characters. */
export function maskPhone(value: string): string {
  return value.length <= 4 ? '****' : '*'.repeat(value.length - 4) + value.slice(-4);
}

function scrub(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  // An Error's message and stack are not own enumerable fields: copy them, or the entry says `err: {}`.
  const fields = value instanceof Error ? { type: value.name, ...value, message: value.message, stack: value.stack } : value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEYS.test(k)) out[k] = '[redacted]';
    else if (PHONE_KEYS.has(k) && typeof v === 'string') out[k] = maskPhone(v);
    else out[k] = scrub(v, depth + 1);
  }
  return out;
}

export function createLogger(level: string, name: string, format: 'json' | 'pretty' = 'json'): Logger {
  const options = {
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { log: (obj: Record<string, unknown>) => scrub(obj) as Record<string, unknown> },
    // scrub has already made errors plain (type, message, stack); pino's serializer runs after it and would
    // call them type "Object".
    serializers: { err: (err: unknown) => err },
  };
  // The pretty destination rewrites the JSON pino wrote, so masking and redaction hold for both formats.
  return format === 'pretty' ? pino(options, prettyDestination()) : pino(options);
}

/** The call id of a workflow id `call-<callId>`, so every line about a call carries both. */
export function callIdOf(workflowId: unknown): string | undefined {
  return typeof workflowId === 'string' && workflowId.startsWith('call-') ? workflowId.slice(5) : undefined;
}
