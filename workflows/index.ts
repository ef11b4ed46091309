/** Every workflow the worker registers. Workflow code imports activity types only. */
export { ensureWorkspaceWorkflow } from './ensureWorkspace';
