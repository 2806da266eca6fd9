import { Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import pg from 'pg';
import { expect, inject, test } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../scripts/services/search-attributes.js';
import * as workflowKeys from '../workflows/search-attributes.js';

// temporal.api.enums.v1.IndexedValueType, as the API reports attribute types.
const INDEXED_VALUE_TYPE = { Keyword: 2, Int: 3 } as const;

test('PostgreSQL answers and is migrated', async () => {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    const { rows } = await client.query(`SELECT to_regclass('calls') IS NOT NULL AS migrated`);
    expect(rows[0].migrated).toBe(true);
  } finally {
    await client.end();
  }
});

test('Redis answers PING', async () => {
  const redis = new Redis(inject('redisUrl'));
  try {
    expect(await redis.ping()).toBe('PONG');
  } finally {
    redis.disconnect();
  }
});

test("Temporal serves the default namespace with Callwright's search attributes", async () => {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  try {
    const info = await connection.workflowService.getSystemInfo({});
    expect(info.serverVersion).toBeTruthy();
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const { name, type } of SEARCH_ATTRIBUTES) {
      expect(customAttributes[name], name).toBe(INDEXED_VALUE_TYPE[type]);
    }
  } finally {
    await connection.close();
  }
});

test('the servers register the same search attributes the workflows set', () => {
  const used = Object.values(workflowKeys).map(({ name, type }) => ({ name, type }));
  const registered = SEARCH_ATTRIBUTES.map(({ name, type }) => ({ name, type: type.toUpperCase() }));
  expect(registered).toEqual(expect.arrayContaining(used));
  expect(used).toHaveLength(registered.length);
});
