/**
 * Database roles. Migrations run as the owner; the service's processes log in as a role with no
 * privileges of its own and `SET ROLE` to one of the runtime roles below, which are neither owners
 * nor superusers and lack BYPASSRLS, so Row Level Security always applies to them (T20).
 */
export const RUNTIME_ROLES = {
  api: 'integrations_api',
  worker: 'integrations_worker',
} as const;

export type RuntimeRole = keyof typeof RUNTIME_ROLES;

/** Transaction-local setting every RLS policy is keyed on (`set_config(…, true)`). */
export const WORKSPACE_SETTING = 'app.workspace_id';

export const DATABASE_NAME = 'integrations';
export const OWNER_ROLE = 'integrations_owner';
export const APP_LOGIN_ROLE = 'integrations_app';
