// `npm start` checks every port it will listen on before it starts anything: a taken port stops it with what
// the port is for and which variable moves it, rather than with a server's bind error halfway through.
import { createServer } from 'node:net';
import type { Config } from '../../config/env.js';

export interface WantedPort {
  port: number;
  /** What listens there, e.g. "Temporal gRPC". */
  what: string;
  /** The variable that moves it. */
  variable: string;
  /** The addresses it binds; undefined is every interface, as Node's listen(port) (the API's) binds. */
  hosts: (string | undefined)[];
  /** What to do when it is taken. */
  fix: string;
}

/** Which of npm start's own servers run here: those whose URL the environment does not give. */
export interface Embedded {
  temporal: boolean;
  postgres: boolean;
  redis: boolean;
}

const LOOPBACK = ['127.0.0.1'];

/** The ports npm start listens on with this configuration (port 0 is any free port: never taken). */
export function startPorts(config: Config, embedded: Embedded): WantedPort[] {
  const ports: WantedPort[] = [];
  if (embedded.temporal) {
    const port = config.TEMPORAL_PORT;
    const there = `TEMPORAL_ADDRESS=localhost:${port} to use the server already there`;
    const fix = `set TEMPORAL_PORT to run the embedded Temporal elsewhere, or ${there}`;
    ports.push({ port, what: 'Temporal gRPC', variable: 'TEMPORAL_PORT', hosts: LOOPBACK, fix });
    const ui = config.TEMPORAL_UI_PORT;
    ports.push({
      port: ui,
      what: 'Temporal Web UI',
      variable: 'TEMPORAL_UI_PORT',
      hosts: LOOPBACK,
      fix: 'set TEMPORAL_UI_PORT to serve it elsewhere',
    });
  }
  if (embedded.postgres) {
    const fix = 'set POSTGRES_PORT to run the embedded PostgreSQL elsewhere, or DATABASE_URL to use a server of yours';
    ports.push({ port: config.POSTGRES_PORT, what: 'PostgreSQL', variable: 'POSTGRES_PORT', hosts: LOOPBACK, fix });
  }
  if (embedded.redis) {
    const port = config.REDIS_PORT;
    const there = `REDIS_URL=redis://127.0.0.1:${port} to use the server already there`;
    const fix = `set REDIS_PORT to run the embedded Redis elsewhere, or ${there}`;
    ports.push({ port, what: 'Redis', variable: 'REDIS_PORT', hosts: LOOPBACK, fix });
  }
  // The API listens on every interface; the worker's metrics on every IPv4 one. Loopback too, where a
  // wildcard bind does not conflict with another program's loopback one (BSD, macOS).
  ports.push({
    port: config.PORT,
    what: 'API',
    variable: 'PORT',
    hosts: [undefined, ...LOOPBACK],
    fix: 'set PORT to serve the API elsewhere',
  });
  const metricsFix = "set WORKER_METRICS_PORT to serve the worker's metrics elsewhere";
  ports.push({
    port: config.WORKER_METRICS_PORT,
    what: 'worker metrics',
    variable: 'WORKER_METRICS_PORT',
    hosts: ['0.0.0.0', ...LOOPBACK],
    fix: metricsFix,
  });
  return ports.filter(({ port }) => port !== 0);
}

/** One line per problem: a port wanted twice, or taken by another program. Empty when all are free. */
export async function portProblems(wanted: WantedPort[]): Promise<string[]> {
  const problems: string[] = [];
  const first = new Map<number, WantedPort>();
  for (const want of wanted) {
    const earlier = first.get(want.port);
    if (earlier) {
      problems.push(
        `port ${want.port} is set for both ${earlier.what} (${earlier.variable}) and ${want.what} (${want.variable}): move one`,
      );
      continue;
    }
    first.set(want.port, want);
    // One address at a time: two probes of one port would take it from each other.
    for (const host of want.hosts) {
      const error = await bindError(want.port, host);
      if (error === undefined) continue;
      problems.push(
        error === 'EADDRINUSE'
          ? `port ${want.port} (${want.what}) is in use: ${want.fix}`
          : `port ${want.port} (${want.what}) cannot be listened on (${error}): ${want.fix}`,
      );
      break;
    }
  }
  return problems;
}

/** The error code of listening on host:port, or undefined when it could (the probe closes at once). */
function bindError(port: number, host: string | undefined): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    probe.listen({ port, host }, () => probe.close(() => resolve(undefined)));
  });
}
