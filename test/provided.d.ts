import 'vitest';

// What test/global-setup.ts hands every test file through inject().
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    temporalAddress: string;
    /** The dev server's Web UI, e.g. http://localhost:8233. */
    temporalUiUrl: string;
  }
}
