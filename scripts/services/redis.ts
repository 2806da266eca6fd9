import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { findOnPath, spawnPrefixed, stopProcess, waitUntil } from './process.js';

export interface StartRedisOptions {
  dataDir: string;
  port: number;
  /** Keep an append-only file in dataDir so the cache survives restarts (npm start); tests need none. */
  appendOnly?: boolean;
  echo?: boolean;
  timeoutMs?: number;
}

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

const OVERCOMMIT_WARNING = /WARNING Memory overcommit must be enabled!/;

/** Runs a private redis-server on 127.0.0.1:port. */
export async function startRedis(options: StartRedisOptions): Promise<RedisServer> {
  const { port, appendOnly = false, echo = false, timeoutMs = 30_000 } = options;
  const dataDir = resolve(options.dataDir);
  const bin = findOnPath('redis-server', ['/usr/sbin', '/usr/local/sbin']);
  if (!bin) {
    throw new Error(
      'redis-server not found on PATH. Install Redis 7: `apt-get install redis-server` (Debian/Ubuntu), ' +
        '`brew install redis` (macOS), or point REDIS_URL at a running server.',
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--save', ''];
  args.push('--appendonly', appendOnly ? 'yes' : 'no', '--daemonize', 'no', '--loglevel', 'warning');
  // Redis has no option to silence it: vm.overcommit_memory is the host's setting, and a background save
  // failing under memory pressure would show as its own error; the cache (or a test) runs either way.
  const proc = spawnPrefixed('redis', bin, args, { echo, mute: OVERCOMMIT_WARNING });
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitUntil('Redis to answer PING', () => ping(url), { proc, timeoutMs });
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return { url, stop: () => stopProcess(proc) };
}

async function ping(url: string): Promise<true | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? true : undefined;
  } finally {
    client.disconnect();
  }
}
