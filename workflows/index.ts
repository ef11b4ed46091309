/** Every workflow the worker registers. Workflow code imports activity types only. */
export { ensureWorkspaceWorkflow } from './ensureWorkspace';
export { cacheSweepWorkflow } from './maintenance';
export { webhookCatchUpWorkflow } from './webhookCatchUp';
export { connectWorkflow } from './connect';
export { integrationLifecycleWorkflow } from './lifecycle';
export { syncWorkflow } from './sync';
export { disconnectWorkflow } from './disconnect';
export { rotateSecretWorkflow } from './rotate';
export { deleteWorkspaceWorkflow } from './deleteWorkspace';
export { vendorActionWorkflow } from './vendorAction';
export { kekRotationWorkflow } from './kekRotation';
export { controlChoicesWorkflow } from './controlChoices';
