/** The authenticated operations of the API and the permission each needs (T17, T23). */
import crypto from 'node:crypto';
import type { Permission } from '../../../api/auth';

export interface RouteCase {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** `actionId`: an action that does not exist, unless the caller names one (the OpenAPI test passes the template). */
  url: (ws: string, id: string, actionId?: string) => string;
  permission: Permission;
  body?: unknown;
}

/** Every authenticated operation of the API (the OpenAPI test checks none is missing from here). */
export const ROUTES: RouteCase[] = [
  { name: 'list vendors', method: 'GET', url: () => '/v1/vendors', permission: 'read' },
  // Bodies that pass authorisation but stop at validation (422), so no workflow starts.
  {
    name: 'connect',
    method: 'POST',
    url: (ws) => `/v1/workspaces/${ws}/integrations`,
    permission: 'manage',
    body: { vendor: 'no-such-vendor' },
  },
  { name: 'list integrations', method: 'GET', url: (ws) => `/v1/workspaces/${ws}/integrations`, permission: 'read' },
  {
    name: 'read integration',
    method: 'GET',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}`,
    permission: 'read',
  },
  {
    name: 'authorize hand-off',
    method: 'GET',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/authorize`,
    permission: 'manage',
  },
  {
    name: 'consent ledger',
    method: 'GET',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/consents`,
    permission: 'review',
  },
  {
    name: 'restrict scopes',
    method: 'PATCH',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/scopes`,
    permission: 'manage',
    body: { scopes: ['not-granted'] },
  },
  {
    name: 'change controls',
    method: 'PATCH',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/controls`,
    permission: 'manage',
    body: { controls: { channels: ['x'] } },
  },
  {
    name: 'list control choices',
    method: 'GET',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/controls/choices`,
    permission: 'manage',
  },
  {
    name: 'reconnect',
    method: 'POST',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/reconnect`,
    permission: 'manage',
    body: { redirectUri: 'https://elsewhere.test/cb' },
  },
  {
    name: 'set credential',
    method: 'POST',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/credentials`,
    permission: 'manage',
    body: { credential: { key: 'k' } },
  },
  {
    name: 'sync now',
    method: 'POST',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/sync`,
    permission: 'operate',
    body: {},
  },
  {
    name: 'sync progress',
    method: 'GET',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/sync`,
    permission: 'read',
  },
  {
    name: 'set polling cadence',
    method: 'PUT',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/schedule`,
    permission: 'manage',
    body: { pollIntervalMs: 1 },
  },
  {
    name: 'set the webhook secret set at the vendor',
    method: 'PUT',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/webhook-secret`,
    permission: 'manage',
    body: { value: 'okta-event-hook-authorization-value-0123456789' },
  },
  {
    name: 'perform action',
    method: 'POST',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/actions`,
    permission: 'operate',
    body: { action: 'no-such-action', input: {} },
  },
  {
    name: 'action status',
    method: 'GET',
    url: (ws, id, actionId = crypto.randomUUID()) => `/v1/workspaces/${ws}/integrations/${id}/actions/${actionId}`,
    permission: 'read',
  },
  {
    name: 'rotate',
    method: 'POST',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}/rotate`,
    permission: 'operate',
  },
  {
    name: 'disconnect',
    method: 'DELETE',
    url: (ws, id) => `/v1/workspaces/${ws}/integrations/${id}`,
    permission: 'manage',
  },
  { name: 'delete workspace', method: 'DELETE', url: (ws) => `/v1/workspaces/${ws}`, permission: 'manage' },
  { name: 'audit log', method: 'GET', url: (ws) => `/v1/workspaces/${ws}/audit`, permission: 'read' },
  { name: 'purge receipts', method: 'GET', url: (ws) => `/v1/workspaces/${ws}/purge-receipts`, permission: 'review' },
];
