// The worker's workflowsPath: every workflow type the system registers.
export { dispatch } from './dispatch';
export { analysisJob } from './job';
