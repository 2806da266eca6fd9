import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate } from '../db/migrate.js';
import { startPostgres } from '../scripts/services/postgres.js';
import { freePort, startTogether } from '../scripts/services/process.js';
import { startRedis } from '../scripts/services/redis.js';
import { startTemporal } from '../scripts/services/temporal.js';

/** Starts private PostgreSQL, Redis and Temporal (with its Web UI) servers for the whole run, on free ports. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const echo = process.env.CALLWRIGHT_SERVICE_LOGS === '1';
  const dirs = ['postgres', 'redis'].map((name) => mkdtempSync(join(tmpdir(), `callwright-test-${name}-`)));
  const [pgPort, redisPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const services = await startTogether([
    startPostgres({ dataDir: dirs[0], port: pgPort, durable: false, echo }),
    startRedis({ dataDir: dirs[1], port: redisPort, echo }),
    startTemporal({ port: temporalPort, uiPort, echo }),
  ] as const);
  const [postgres, redis, temporal] = services;
  const teardown = async (): Promise<void> => {
    await Promise.all(services.map((service) => service.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await migrate(postgres.url);
  } catch (err) {
    await teardown();
    throw err;
  }
  project.provide('databaseUrl', postgres.url);
  project.provide('redisUrl', redis.url);
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalUiUrl', temporal.uiUrl!);
  return teardown;
}
