// The faults, one scenario each, injected while the conversations run. Each repeats on its period
// (the first half a period in), so a short development run still sees one.
import { Redis } from 'ioredis';
import type { ServerName, StackControl } from '../stack.js';
import type { Products } from './products.js';

export interface FaultContext {
  products: Products;
  control: StackControl;
  /** When the load started and ends (epoch ms). */
  startedAt: number;
  endsAt: number;
  /** How long a restarted server stays down. */
  downMs: number;
  note: (line: string) => void;
  incident: (line: string) => void;
}

export interface Scenario {
  name: string;
  title: string;
  /** Before the load: e.g. a second worker, polling. */
  prepare?(ctx: Omit<FaultContext, 'startedAt' | 'endsAt'>): Promise<void>;
  inject(ctx: FaultContext): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Runs `fault` at startedAt + period/2, then every period, while the load runs; each run is awaited. */
async function every(ctx: FaultContext, periodMs: number, fault: () => Promise<void>): Promise<void> {
  for (let at = ctx.startedAt + periodMs / 2; at < ctx.endsAt; at += periodMs) {
    await sleep(at - Date.now());
    await fault();
  }
}

/** Stops a server, keeps it down, starts it again on its port and data directory (retrying a failed start). */
async function bounce(ctx: FaultContext, name: ServerName, afterStart?: () => Promise<void>): Promise<void> {
  let t = Date.now();
  await ctx.control.stopServer(name);
  ctx.note(`${name} stopped (${Date.now() - t} ms)`);
  await sleep(ctx.downMs);
  for (let attempt = 1; ; attempt++) {
    t = Date.now();
    try {
      await ctx.control.startServer(name);
      ctx.note(`${name} started (${Date.now() - t} ms)`);
      break;
    } catch (err) {
      ctx.incident(`${name} failed to start again (attempt ${attempt}): ${(err as Error).message.slice(0, 2000)}`);
      if (attempt >= 5) throw err;
      await sleep(2_000);
    }
  }
  await afterStart?.();
}

async function flushRedis(ctx: FaultContext): Promise<void> {
  const redis = new Redis(ctx.control.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.flushall();
    ctx.note('redis FLUSHALL');
  } finally {
    redis.disconnect();
  }
}

const RESTART_DELAY_MS = 100; // what npm start's supervisor waits before its first restart

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-kill',
    title: 'worker SIGKILL every 10 s (a replacement still starting: 2 s after it polls), restarted after 100 ms',
    inject: (ctx) =>
      every(ctx, 10_000, async () => {
        const slot = ctx.products.workers[0]!;
        // A replacement takes ~10 s to bundle its workflow code; killed before it polls, it would never take a task.
        const t = Date.now();
        await ctx.products.serving(slot.proc, 120_000);
        if (Date.now() - t > 500) await sleep(2_000);
        if (Date.now() >= ctx.endsAt) return;
        await ctx.products.kill(slot);
        await sleep(RESTART_DELAY_MS);
        await ctx.products.restart(slot);
      }),
  },
  {
    name: 'api-kill',
    title: 'API SIGKILL every 10 s, restarted after 100 ms',
    inject: (ctx) =>
      every(ctx, 10_000, async () => {
        await ctx.products.kill(ctx.products.api);
        await sleep(RESTART_DELAY_MS);
        await ctx.products.restart(ctx.products.api);
      }),
  },
  {
    name: 'postgres-restart',
    title: 'PostgreSQL stopped, down, started on its port and data dir, every 20 s',
    inject: (ctx) => every(ctx, 20_000, () => bounce(ctx, 'postgres')),
  },
  {
    name: 'redis-restart',
    title: 'Redis stopped, down, started, then FLUSHALL, every 20 s',
    inject: (ctx) => every(ctx, 20_000, () => bounce(ctx, 'redis', () => flushRedis(ctx))),
  },
  {
    name: 'temporal-restart',
    title: 'Temporal dev server stopped, down, started on its port and SQLite file, every 30 s',
    inject: (ctx) => every(ctx, 30_000, () => bounce(ctx, 'temporal')),
  },
  {
    name: 'two-workers',
    title: 'two workers, one SIGKILLed at half time (not restarted)',
    async prepare(ctx) {
      const slot = await ctx.products.addWorker();
      await ctx.products.serving(slot.proc, 180_000);
      ctx.note(`worker ${slot.proc.child.pid} polling beside ${ctx.products.workers[0]!.proc.child.pid}`);
    },
    async inject(ctx) {
      await sleep((ctx.startedAt + ctx.endsAt) / 2 - Date.now());
      // The older worker: it has held calls the longest, so most sticky caches die with it.
      const slot = ctx.products.workers[0]!;
      await ctx.products.kill(slot);
      ctx.products.remove(slot);
    },
  },
];
