/** What several integration route modules share: finding the integration and its lifecycle, links, checks. */
import type { WorkflowHandle } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { VendorDescriptor } from '../../../activities/vendors/types';
import { workflowIds } from '../../../workflows/definitions';
import { HttpProblem } from '../../problem';
import { temporalCall } from '../../runs';
import type { IntegrationParams } from '../../schemas';
import type { ApiServices } from '../../services';
import { getIntegration, type IntegrationRow } from '../../../db/integrations';

export type Params = Static<typeof IntegrationParams>;

export const statusUrl = (workspaceId: string, integrationId: string) =>
  `/v1/workspaces/${workspaceId}/integrations/${integrationId}`;

export const iso = (value: Date | string | null | undefined): string | undefined =>
  value === null || value === undefined ? undefined : new Date(value).toISOString();

/** Loads the integration (404 when absent in this workspace, RLS-bound) and records its ids for the audit entry. */
export async function loadIntegration(
  services: ApiServices,
  request: FastifyRequest,
  params: Params,
): Promise<IntegrationRow> {
  request.auditFacts.integrationId = params.integrationId;
  const row = await getIntegration(services.db, params.workspaceId, params.integrationId);
  if (!row) throw new HttpProblem(404, 'No such integration in this workspace');
  request.auditFacts.vendor = row.vendor;
  return row;
}

/** An integration that has (or had until its grant lapsed) a working connection: a new consent must not tear it down. */
export const isEstablished = (row: IntegrationRow) =>
  row.status === 'connected' || row.status === 'reauthorization_required';

/** The integration's lifecycle workflow, once the integration is known to be in this workspace (404 otherwise). */
export async function lifecycleOf(services: ApiServices, request: FastifyRequest, params: Params) {
  const row = await loadIntegration(services, request, params);
  return {
    row,
    lifecycle: services.temporal.client.workflow.getHandle(
      workflowIds.lifecycle(params.workspaceId, params.integrationId),
    ),
  };
}

/**
 * Sends a request to the integration's lifecycle without reading the integration first: its
 * workflow id is built from the path's workspace (bound to the token) and integration, so no
 * other workspace's lifecycle is addressable. Only when no lifecycle runs does the row decide
 * between 404 (no such integration here) and 409 (not running). Keeps "sync now", the route
 * backend services call most, at one Temporal call plus the audit append.
 */
export async function callLifecycle<T>(
  services: ApiServices,
  request: FastifyRequest,
  params: Params,
  call: (lifecycle: WorkflowHandle) => Promise<T>,
): Promise<T> {
  const { temporal } = services;
  request.auditFacts.integrationId = params.integrationId;
  const lifecycle = temporal.client.workflow.getHandle(workflowIds.lifecycle(params.workspaceId, params.integrationId));
  try {
    return await request.timing.measure('temporal', () => temporalCall(temporal, () => call(lifecycle)));
  } catch (error) {
    if (error instanceof HttpProblem && error.extensions.errorClass === 'NotRunning')
      await loadIntegration(services, request, params);
    throw error;
  }
}

/** T18: only the vendor's own kind of customer control is accepted. */
export function assertControls(
  descriptor: VendorDescriptor,
  controls: Record<string, string[]>,
  pointer: string,
): void {
  const allowed = descriptor.customerControl.kind;
  const settings = descriptor.customerControl.settings ?? [];
  const foreign = Object.keys(controls).filter(
    (key) => (key !== allowed || allowed === 'none') && !settings.includes(key),
  );
  if (foreign.length > 0) {
    const named = [allowed, ...settings].map((key) => `"${key}"`).join(', ');
    throw new HttpProblem(422, `${descriptor.displayName} takes the customer control ${named} only`, {
      errors: foreign.map((key) => ({ pointer: `${pointer}/${key}`, detail: `not a control of ${descriptor.id}` })),
    });
  }
}

/** How a row that takes no stored secret signs in, in the words of the T9 refusal. */
const SIGN_IN_KIND: Record<Exclude<VendorDescriptor['authKind'], 'service-account'>, string> = {
  'oauth2-pkce': 'OAuth 2.0 with PKCE',
  'oauth2-state': 'OAuth 2.0',
  'github-app': 'its GitHub App installation',
  'federated-identity': 'federated sign-in (OIDC or SAML)',
};

/**
 * T9: a row whose vendor offers OAuth or federated sign-in uses it, so a submitted API key,
 * password or client secret is refused (422 naming the row, the value never echoed); a
 * service-account row needs its credential.
 */
export function assertCredentialPolicy(descriptor: VendorDescriptor, credential: object | undefined): void {
  if (descriptor.authKind === 'service-account') {
    if (credential === undefined)
      throw new HttpProblem(422, `${descriptor.displayName} connects with a service-account credential`, {
        errors: [{ pointer: '/body/credential', detail: 'required' }],
      });
    return;
  }
  if (credential === undefined) return;
  throw new HttpProblem(
    422,
    `${descriptor.displayName} (${descriptor.id}) connects through ${SIGN_IN_KIND[descriptor.authKind]}: ` +
      'no API key, password or client secret is accepted (T9)',
    { errors: [{ pointer: '/body/credential', detail: `not allowed for ${descriptor.id}` }] },
  );
}
