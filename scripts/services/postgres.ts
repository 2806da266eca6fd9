import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { findOnPath, spawnPrefixed, stopProcess, waitUntil } from './process.js';

export interface StartPostgresOptions {
  dataDir: string;
  port: number;
  /** false turns fsync off: much faster, and fine for throwaway test clusters. */
  durable?: boolean;
  echo?: boolean;
  timeoutMs?: number;
}

export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

export const DATABASE = 'callwright';

/** Runs a private PostgreSQL on 127.0.0.1:port with its cluster in dataDir (created on first use). */
export async function startPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const { port, durable = true, echo = false, timeoutMs = 60_000 } = options;
  const dataDir = resolve(options.dataDir);
  const bin = findBinaries();
  const owner = runAs();
  mkdirSync(dataDir, { recursive: true });
  if (owner) {
    chownSync(dataDir, owner.uid, owner.gid);
    assertReachable(dataDir, owner);
  }

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    if (readdirSync(dataDir).length > 0) throw new Error(`${dataDir} is neither empty nor a PostgreSQL data directory`);
    const args = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'];
    if (echo) console.error(`Creating a PostgreSQL cluster in ${dataDir}`);
    const initdb = spawnPrefixed('initdb', bin.initdb, durable ? args : [...args, '--no-sync'], { ...owner });
    const code = await initdb.exited;
    if (code !== 0) throw new Error(`initdb failed (${code}):\n${initdb.output()}`);
  }

  // A Unix socket path longer than ~100 bytes is rejected, and the default socket dir may not be writable.
  const socketDir = dataDir.length < 90 ? dataDir : '';
  const settings = [`listen_addresses=127.0.0.1`, `unix_socket_directories=${socketDir}`];
  if (!durable) settings.push('fsync=off', 'synchronous_commit=off', 'full_page_writes=off');
  const args = ['-D', dataDir, '-p', String(port), ...settings.flatMap((s) => ['-c', s])];
  // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
  const proc = spawnPrefixed('postgres', bin.postgres, args, { ...owner, echo, stopSignal: 'SIGINT' });

  try {
    const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await waitUntil('PostgreSQL to accept connections', () => query(admin, 'SELECT 1').then(() => true), {
      proc,
      timeoutMs,
    });
    const { rowCount } = await query(admin, 'SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await query(admin, `CREATE DATABASE ${DATABASE}`);
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`, stop: () => stopProcess(proc) };
}

async function query(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

function findBinaries(): { initdb: string; postgres: string } {
  const onPath = { initdb: findOnPath('initdb'), postgres: findOnPath('postgres') };
  if (onPath.initdb && onPath.postgres) return onPath as { initdb: string; postgres: string };
  // Debian and Ubuntu keep the server binaries out of PATH, one directory per major version.
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) {
      return { initdb: join(dir, 'initdb'), postgres: join(dir, 'postgres') };
    }
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin. ' +
      'Install PostgreSQL 15: `apt-get install postgresql-15` (Debian/Ubuntu), `brew install postgresql@15` (macOS), ' +
      'or point DATABASE_URL at a running server.',
  );
}

/** PostgreSQL refuses to run as root, so as root it runs as the `postgres` user (or `nobody`). */
function runAs(): { user: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter((fields) => fields.length > 3);
  const user = users.find((f) => f[0] === 'postgres') ?? users.find((f) => f[0] === 'nobody');
  if (!user) throw new Error('running as root, PostgreSQL needs an unprivileged user: `useradd --system postgres`');
  return { user: user[0], uid: Number(user[2]), gid: Number(user[3]) };
}

function assertReachable(dataDir: string, owner: { user: string; uid: number; gid: number }): void {
  for (let dir = dirname(dataDir); dir !== dirname(dir); dir = dirname(dir)) {
    const { mode, uid, gid } = statSync(dir);
    const searchable = uid === owner.uid ? mode & 0o100 : gid === owner.gid ? mode & 0o010 : mode & 0o001;
    if (!searchable) {
      throw new Error(
        `PostgreSQL runs as ${owner.user} here (it refuses root) and cannot reach ${dataDir}: ${dir} is not ` +
          `searchable by it. Use a data directory elsewhere (CALLWRIGHT_DATA_DIR) or \`chmod o+x ${dir}\`.`,
      );
    }
  }
}
