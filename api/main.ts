// API entry point: configuration, connections, HTTP server; SIGTERM/SIGINT close it cleanly.
import { serve } from '@hono/node-server';
import { loadConfigOrExit } from '../config/env.js';
import { createApp } from './app.js';
import { connectDeps } from './create-deps.js';

const config = loadConfigOrExit();
const deps = await connectDeps(config);
const server = serve({ fetch: createApp(deps).fetch, port: config.PORT }, (info) => {
  console.log(`api listening on http://localhost:${info.port} (docs: /docs)`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(async () => {
      await deps.close();
      console.log('api stopped');
      process.exit(0);
    });
  });
}
