const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `2s`, `10m`, `1h`, `1d` (or a bare number of milliseconds); null when malformed. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
  return ms > 0 ? ms : null;
}
