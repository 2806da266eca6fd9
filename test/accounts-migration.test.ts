// Migration 008 on a database of the release before accounts: every row it held becomes the default
// account's, and a caller number can then be a profile in two accounts.
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { migrate } from '../db/migrate.js';

const dir = new URL('../db/migrations/', import.meta.url);
const dbName = `before_accounts_${randomUUID().replaceAll('-', '')}`;
let admin: pg.Client;
let db: pg.Client;
beforeAll(async () => {
  admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${dbName}`;
  db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin?.end();
});

it('moves the rows of a database from before accounts into the default account, and callers become per account', async () => {
  // The schema as the release before accounts left it: migrations up to 007, recorded as migrate() records them.
  await db.query('CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  const before = (await readdir(dir)).filter((f) => f.endsWith('.sql') && f < '008').sort();
  expect(before.at(-1)).toMatch(/^007_/);
  for (const name of before) {
    await db.query(await readFile(new URL(name, dir), 'utf8'));
    await db.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
  }
  await db.query("INSERT INTO agents (agent_id, name, config) VALUES ('old-agent', 'Old desk', '{}')");
  await db.query("INSERT INTO numbers (number, agent_id) VALUES ('+15550007001', 'old-agent')");
  await db.query("INSERT INTO callers (number, name) VALUES ('+15550007002', 'Ada')");
  await db.query(
    `INSERT INTO calls (call_id, workflow_id, channel, direction, from_number, status, started_at, dropped_at, resume_deadline)
     VALUES ('old-call', 'call-old-call', 'voice', 'inbound', '+15550007002', 'dropped', now(), now(), now() + interval '10 minutes')`,
  );

  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${dbName}`;
  expect(await migrate(url.toString())).toEqual(expect.arrayContaining(['008_accounts.sql']));

  for (const table of ['agents', 'numbers', 'callers', 'calls']) {
    expect((await db.query(`SELECT DISTINCT account_id FROM ${table}`)).rows, table).toEqual([{ account_id: 'default' }]);
  }
  expect((await db.query("SELECT account_id, name, status FROM accounts WHERE account_id = 'default'")).rows).toEqual([
    { account_id: 'default', name: 'Default', status: 'active' },
  ]);
  // The dropped call is still found by its caller, now within its account (the index leads with it; a
  // table this small would be scanned, so the planner is told not to).
  await db.query('SET enable_seqscan = off');
  const { rows } = await db.query(
    `EXPLAIN (FORMAT JSON) SELECT call_id FROM calls WHERE account_id = 'default' AND status = 'dropped'
       AND (CASE WHEN direction = 'outbound' AND to_number IS NOT NULL THEN to_number ELSE from_number END) = '+15550007002'`,
  );
  expect(JSON.stringify(rows)).toContain('calls_dropped_party_idx');
  // The same number may now be a caller of a second account.
  await db.query("INSERT INTO accounts (account_id, name) VALUES ('acme', 'Acme')");
  await db.query("INSERT INTO callers (account_id, number, name) VALUES ('acme', '+15550007002', 'Grace')");
  expect((await db.query("SELECT account_id, name FROM callers WHERE number = '+15550007002' ORDER BY account_id")).rows).toEqual([
    { account_id: 'acme', name: 'Grace' },
    { account_id: 'default', name: 'Ada' },
  ]);
});
