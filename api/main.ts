// API entry point: configuration, connections, HTTP server; SIGTERM/SIGINT close it cleanly.
import { serve } from '@hono/node-server';
import { loadConfigOrExit } from '../config/env.js';
import { createLogger } from '../observability/logger.js';
import { installRuntime } from '../observability/temporal-runtime.js';
import { createApp } from './app.js';
import { connectDeps } from './create-deps.js';
import { attachRelay } from './voice/relay-server.js';

const config = loadConfigOrExit();
const logger = createLogger(config.LOG_LEVEL, 'api', config.LOG_FORMAT);
// Before the Temporal connection opens, so the Rust client's warnings (a server gone away) reach the log.
installRuntime(logger);
const deps = await connectDeps(config, logger);
const server = serve({ fetch: createApp({ ...deps, logger }).fetch, port: config.PORT }, (info) => {
  logger.info({ port: info.port, docs: `http://localhost:${info.port}/docs` }, 'api listening');
});
const relay = attachRelay(server, { ...deps, logger });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // Open streams would hold the server open: end them first (clients reconnect to another process).
    deps.feed.close();
    relay.close();
    server.close(async () => {
      await deps.close();
      logger.info('api stopped');
      process.exit(0);
    });
  });
}
