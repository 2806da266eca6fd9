// Latency percentiles and throughput, and the small loops every measurement shares.

export interface Latency {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

export interface Throughput {
  ops: number;
  seconds: number;
  perSecond: number;
  /** Per-operation latency under this load, when each operation is timed. */
  latency?: Latency;
}

/** Nearest-rank percentiles, in milliseconds. */
export function summarize(ms: number[]): Latency {
  if (!ms.length) throw new Error('no samples');
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1] };
}

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs `op(i)` for i < n one after another and returns each one's latency. */
export async function sequential(n: number, op: (i: number) => Promise<unknown>): Promise<Latency> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await timed(() => op(i)));
  return summarize(ms);
}

/** `streams` independent loops, each running `perStream` operations in order; the rate counts them all. */
export async function concurrentStreams(
  streams: number,
  perStream: number,
  op: (stream: number, i: number) => Promise<unknown>,
): Promise<Throughput> {
  const ms: number[] = [];
  const t = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async (_, s) => {
      for (let i = 0; i < perStream; i++) ms.push(await timed(() => op(s, i)));
    }),
  );
  return rate(ms.length, performance.now() - t, summarize(ms));
}

/** `total` operations with at most `limit` running at once. */
export async function inFlight(total: number, limit: number, op: (i: number) => Promise<unknown>): Promise<Throughput> {
  const ms: number[] = [];
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(limit, total) }, async () => {
      while (next < total) {
        const i = next++;
        ms.push(await timed(() => op(i)));
      }
    }),
  );
  return rate(ms.length, performance.now() - t, summarize(ms));
}

export function rate(ops: number, elapsedMs: number, latency?: Latency): Throughput {
  return { ops, seconds: elapsedMs / 1000, perSecond: ops / (elapsedMs / 1000), ...(latency ? { latency } : {}) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
