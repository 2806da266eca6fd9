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
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
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
  };
  // The pretty destination rewrites the JSON pino wrote, so masking and redaction hold for both formats.
  return format === 'pretty' ? pino(options, prettyDestination()) : pino(options);
}

/** The call id of a workflow id `call-<callId>`, so every line about a call carries both. */
export function callIdOf(workflowId: unknown): string | undefined {
  return typeof workflowId === 'string' && workflowId.startsWith('call-') ? workflowId.slice(5) : undefined;
}
