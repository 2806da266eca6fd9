// What a provider's speech recognition heard, made safe to record: no control characters (PostgreSQL
// refuses NUL), no replacement characters from invalid UTF-8, and a bounded length.

/** Longer than any utterance a person says in one breath: the caller is asked to say it again. */
export const MAX_UTTERANCE = 1_000;

// C0 and C1 controls but tab and newline, and U+FFFD (what a decoder puts for invalid UTF-8), and unpaired surrogates.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The utterance to record, '' for silence, or null when it cannot be one (too long): re-prompt. */
export function utterance(raw: string | undefined): string | null {
  if (raw === undefined) return '';
  if (raw.length > MAX_UTTERANCE) return null;
  return raw.replace(UNSAFE, '').replace(/\s+/g, ' ').trim();
}

/** Keys pressed: digits, * and #, at most 32 of them; anything else is not a key. */
export function digitsOf(raw: string | undefined): string | undefined {
  const keys = raw?.replace(/[^0-9*#]/g, '').slice(0, 32);
  return keys ? keys : undefined;
}
