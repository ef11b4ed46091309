/**
 * An app's setup redirect: `GET /v1/oauth/setup/{vendor}?installation_id=…&setup_action=…&state=…`
 * (a GitHub App's "Setup URL"). The vendor sends the admin's browser here after the app was installed
 * or configured. The installation id is only a claim of the browser: the `state` (signed by the
 * connect run, bound to its workspace, integration and run) routes it to that run, which verifies the
 * signature and the binding; the installation itself is verified against the user's authorization
 * before it is bound. The answer sends the browser on to that authorization (OAuth with PKCE).
 */
import { Type } from 'typebox';
import type { VendorId } from '../../activities/vendors/types';
import { readSetupState } from '../../lib/oauth/setupState';
import { installationSetupUpdate, workflowIds } from '../../workflows/definitions';
import { HttpProblem, problemResponses } from '../problem';
import { temporalCall } from '../runs';
import { VendorIdSchema } from '../schemas';
import type { ApiServices } from '../services';
import type { Api } from '../types';

const SetupQuery = Type.Object({
  installation_id: Type.String({ pattern: '^[1-9][0-9]{0,18}$' }),
  /** `request`: an organisation owner has yet to approve the installation a member asked for. */
  setup_action: Type.Union([Type.Literal('install'), Type.Literal('update'), Type.Literal('request')]),
  state: Type.String({ minLength: 1, maxLength: 500 }),
});

export function registerInstallationSetupRoute(app: Api, services: ApiServices): void {
  app.get(
    '/v1/oauth/setup/:vendor',
    {
      schema: {
        tags: ['oauth'],
        summary:
          'App installation setup redirect target (signed-state-authenticated); redirects to the user authorization',
        security: [],
        params: Type.Object({ vendor: VendorIdSchema }),
        querystring: SetupQuery,
        response: { 302: Type.Null(), ...problemResponses(404, 409, 422) },
      },
      config: { access: { action: 'oauth.setup', permission: 'public' } },
    },
    async (request, reply) => {
      const { vendor } = request.params;
      const { installation_id: installationId, setup_action: setupAction, state } = request.query;
      const row = services.vendors.get(vendor as VendorId);
      if (row?.availability !== 'available' || row.descriptor.authKind !== 'github-app')
        throw new HttpProblem(404, `Vendor "${vendor}" has no app installation step`);
      request.auditFacts.actor = { type: 'vendor', id: vendor };
      request.auditFacts.vendor = vendor;
      const bound = readSetupState(state);
      if (!bound)
        throw new HttpProblem(400, 'The state is not one this service issued', { errorClass: 'InvalidState' });
      if (setupAction === 'request')
        throw new HttpProblem(
          409,
          'The installation awaits approval by an owner of the account; connect again once approved',
          {
            errorClass: 'InstallationPendingApproval',
          },
        );
      const workflowId = workflowIds.connect(bound.workspaceId, bound.integrationId);
      request.auditFacts.workspaceId = bound.workspaceId;
      request.auditFacts.integrationId = bound.integrationId;
      request.auditFacts.workflowId = workflowId;
      const handle = services.temporal.client.workflow.getHandle(workflowId);
      const { authorizeUrl } = await temporalCall(services.temporal, () =>
        handle.executeUpdate(installationSetupUpdate, { args: [{ state, installationId }] }),
      );
      return reply.status(302).header('location', authorizeUrl).send(null);
    },
  );
}
