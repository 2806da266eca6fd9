export { callWorkflow } from './call.js';
