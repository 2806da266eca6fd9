// The 10-minute default resume window, proved in workflow time on Temporal's time-skipping test server.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { scriptedResponder } from '../activities/responder/scripted.js';
import { callConfigOf, loadConfig } from '../config/env.js';
import { ensureTestServer } from '../scripts/services/test-server.js';
import { SEARCH_ATTRIBUTES } from '../scripts/services/search-attributes.js';
import { temporal } from '@temporalio/proto';
import { createCallWorker } from '../worker/create-worker.js';
import { quietRuntime } from './support/runtime.js';
import { callEventUpdate, callViewQuery, workflowIdFor } from '../workflows/messages.js';

const launcher = await ensureTestServer();
let env: TestWorkflowEnvironment;
let pool: pg.Pool;
let redis: Redis;

beforeAll(async () => {
  if (!launcher) return;
  quietRuntime();
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: launcher } } });
  // The test server knows no custom search attributes until told, like any fresh cluster.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTES.map((a) => [
        a.name,
        a.type === 'Int'
          ? temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT
          : temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  pool = new pg.Pool({ connectionString: inject('databaseUrl') });
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  await Promise.allSettled([env?.teardown(), pool?.end(), redis?.quit()]);
});

// Skipped only where java or mvn are missing (the real-server tests cover the window with a short one).
it.skipIf(!launcher)(
  'a dropped call with the default window is still resumable at 9:59 and abandoned at 10:00',
  async () => {
    const taskQueue = `ts-${randomUUID()}`;
    const worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      deps: { pool, redis, responder: scriptedResponder },
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    const callId = `ts-${randomUUID()}`;
    const config = callConfigOf(loadConfig({})); // the documented defaults: RESUME_WINDOW 10m, IDLE_TIMEOUT 30m
    expect(config.resumeWindowMs).toBe(600_000);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('callWorkflow', {
        taskQueue,
        workflowId: workflowIdFor(callId),
        args: [
          {
            start: {
              callId,
              channel: 'chat',
              direction: 'inbound',
              from: '+15550001234',
              to: null,
              provider: null,
              answered: true,
              metadata: {},
              key: `start:${callId}`,
            },
            config,
          },
        ],
      });
      const dropped = await handle.executeUpdate(callEventUpdate, { args: [{ type: 'drop', key: 'drop-1' }] });
      expect(Date.parse(dropped.resumeDeadline!) - Date.parse(dropped.droppedAt!)).toBe(600_000);
      await env.sleep(599_000);
      expect((await handle.query(callViewQuery)).status).toBe('dropped');
      const final = await handle.result();
      expect(final).toMatchObject({ status: 'ended', disposition: 'abandoned' });
      expect(Date.parse(final.endedAt!) - Date.parse(dropped.droppedAt!)).toBeGreaterThanOrEqual(600_000);
      expect(Date.parse(final.endedAt!) - Date.parse(dropped.droppedAt!)).toBeLessThan(601_000);
    });
    const [row] = (await pool.query('SELECT status, disposition FROM calls WHERE call_id = $1', [callId])).rows;
    expect(row).toEqual({ status: 'ended', disposition: 'abandoned' });
  },
  180_000,
);
