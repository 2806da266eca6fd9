export { callWorkflow } from './call.js';
export { retentionWorkflow } from './retention.js';
