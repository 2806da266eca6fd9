import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../config/duration.js';
import { ConfigError, loadConfig } from '../config/env.js';

describe('configuration', () => {
  it('parses the duration forms of the contract', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1500')).toBe(1500);
    for (const bad of ['', 'ten minutes', '-5s', '0s', '5 parsecs']) expect(parseDuration(bad), bad).toBeNull();
  });

  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      TEMPORAL_ADDRESS: 'localhost:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'calls',
      RESUME_WINDOW: 600_000,
      IDLE_TIMEOUT: 1_800_000,
      STREAM_HEARTBEAT: 15_000,
      TEMPORAL_PORT: 7233,
      TEMPORAL_UI_PORT: 8233,
      POSTGRES_PORT: 5433,
      REDIS_PORT: 6380,
      WORKER_METRICS_PORT: 9464,
      WORKER_STICKY_TIMEOUT: 1_000,
      WORKFLOW_TASK_TIMEOUT: 2_000,
    });
    // A heartbeat also asks Temporal about the call: not more than once a second per stream.
    expect(() => loadConfig({ STREAM_HEARTBEAT: '500ms' })).toThrow(/STREAM_HEARTBEAT: must be at least 1s/);
  });

  it('logs readable lines at a terminal, JSON through a pipe and in production, and as LOG_FORMAT says', () => {
    const tty = process.stdout.isTTY;
    const secrets = {
      ADMIN_API_KEY: 'k'.repeat(16),
      JWT_SECRET: 'j'.repeat(16),
      WEBHOOK_SECRET: 'w'.repeat(16),
      TWILIO_AUTH_TOKEN: 't',
      CREDENTIALS_KEY: 'c'.repeat(64),
    };
    try {
      process.stdout.isTTY = true;
      expect(loadConfig({}).LOG_FORMAT).toBe('pretty');
      expect(loadConfig({ NODE_ENV: 'production', ...secrets }).LOG_FORMAT).toBe('json');
      expect(loadConfig({ LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
      process.stdout.isTTY = false;
      expect(loadConfig({}).LOG_FORMAT).toBe('json');
      expect(loadConfig({ LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    } finally {
      process.stdout.isTTY = tty;
    }
    expect(() => loadConfig({ LOG_FORMAT: 'text' })).toThrow(/LOG_FORMAT/);
  });

  it('names every bad variable', () => {
    const err = (() => {
      try {
        loadConfig({ RESUME_WINDOW: 'soon', PORT: 'eighty', DATABASE_URL: 'mysql://x' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toMatch(/RESUME_WINDOW/);
    expect(err!.message).toMatch(/PORT/);
    expect(err!.message).toMatch(/DATABASE_URL/);
  });

  it('refuses to start in production without secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_API_KEY: required in production/);
  });

  it('stops the worker process with a message naming the variable', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
      env: { ...process.env, IDLE_TIMEOUT: 'forever' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/IDLE_TIMEOUT: "forever" is not a duration/);
  });
});
