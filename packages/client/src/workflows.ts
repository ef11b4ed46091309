/**
 * The workflows the integrations worker registers, as types: what a backend service needs to start
 * one and read its result, with no worker code loaded. The worker's functions are checked against
 * these signatures (`test/client/workflow-types.test.ts`), so a drift fails `tsc`.
 */
import type {
  ConnectInput,
  ConnectResult,
  DeleteWorkspaceInput,
  DeleteWorkspaceResult,
  DisconnectInput,
  DisconnectResult,
  LifecycleInput,
  ProcessName,
  RotateInput,
  RotateResult,
  SyncInput,
  SyncProgress,
  VendorActionInput,
  KekRotationResult,
  KekRotationResume,
  ControlChoicesInput,
  ControlChoicesPage,
} from './definitions';

export interface IntegrationWorkflows {
  ensureWorkspaceWorkflow: (workspaceId: string) => Promise<{ created: boolean }>;
  cacheSweepWorkflow: () => Promise<{ cachedRecords: number; webhookDeliveries: number }>;
  webhookCatchUpWorkflow: () => Promise<{ integrations: number; signalled: number; notRunning: number }>;
  connectWorkflow: (input: ConnectInput) => Promise<ConnectResult>;
  integrationLifecycleWorkflow: (input: LifecycleInput) => Promise<void>;
  syncWorkflow: (input: SyncInput) => Promise<SyncProgress>;
  disconnectWorkflow: (input: DisconnectInput) => Promise<DisconnectResult>;
  rotateSecretWorkflow: (input: RotateInput) => Promise<RotateResult>;
  deleteWorkspaceWorkflow: (input: DeleteWorkspaceInput) => Promise<DeleteWorkspaceResult>;
  vendorActionWorkflow: (input: VendorActionInput) => Promise<Record<string, unknown>>;
  /** Maintenance, run by the `maintenance/kek-rotation` Schedule; not started by backend services. */
  kekRotationWorkflow: (resume?: KekRotationResume) => Promise<KekRotationResult>;
  /** One page of the admin's picker for a customer control (the API's `GET …/controls/choices`). */
  controlChoicesWorkflow: (input: ControlChoicesInput) => Promise<ControlChoicesPage>;
}

export type WorkflowType = keyof IntegrationWorkflows;

/** Every workflow type the worker registers, by name (the keys of `IntegrationWorkflows`). */
export const WORKFLOW_TYPES = [
  'ensureWorkspaceWorkflow',
  'cacheSweepWorkflow',
  'webhookCatchUpWorkflow',
  'connectWorkflow',
  'integrationLifecycleWorkflow',
  'syncWorkflow',
  'disconnectWorkflow',
  'rotateSecretWorkflow',
  'deleteWorkspaceWorkflow',
  'vendorActionWorkflow',
  'kekRotationWorkflow',
  'controlChoicesWorkflow',
] as const satisfies readonly WorkflowType[];

/** The workflows of one integration (or workspace) and the process name their runs are indexed by. */
export const WORKFLOW_PROCESSES = {
  connectWorkflow: 'connect',
  integrationLifecycleWorkflow: 'lifecycle',
  syncWorkflow: 'sync',
  rotateSecretWorkflow: 'rotate',
  disconnectWorkflow: 'disconnect',
  deleteWorkspaceWorkflow: 'workspace-delete',
  vendorActionWorkflow: 'action',
  controlChoicesWorkflow: 'choices',
} as const satisfies Partial<Record<WorkflowType, ProcessName>>;

export type IntegrationWorkflowType = keyof typeof WORKFLOW_PROCESSES;

/** The worker's task queue unless `TEMPORAL_TASK_QUEUE` names another. */
export const DEFAULT_TASK_QUEUE = 'integrations';
