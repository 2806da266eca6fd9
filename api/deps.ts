import type { Stores } from '../activities/store/call-reader.js';
import type { AuthSettings } from './auth.js';
import type { CallGateway } from './call-gateway.js';

/** Everything the app needs, built by the entry point (or a test): nothing connects at import time. */
export interface ApiDeps {
  gateway: CallGateway;
  stores: Stores;
  auth: AuthSettings;
}
