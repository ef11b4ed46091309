/**
 * `GET /v1/vendors`: every row of the vendor matrix, what its connection asks for and allows (T1,
 * T18, T19), and whether this deployment can connect it.
 */
import { Type } from 'typebox';
import type { CatalogRow } from '../../activities/vendors/catalog';
import { HttpProblem, problemResponses } from '../problem';
import type { ApiServices } from '../services';
import type { Api } from '../types';

const VendorSchema = Type.Object({
  id: Type.String(),
  /** `planned`: not built yet; `not-configured`: built, but our app at the vendor is not configured here. */
  availability: Type.Union([Type.Literal('available'), Type.Literal('not-configured'), Type.Literal('planned')]),
  displayName: Type.String(),
  authKind: Type.String(),
  pkce: Type.Boolean(),
  scopes: Type.Object({ required: Type.Array(Type.String()), optional: Type.Array(Type.String()) }),
  customerControl: Type.Object({ kind: Type.String(), description: Type.String() }),
  dataIn: Type.Array(Type.String()),
  dataOut: Type.Array(Type.String()),
  syncMode: Type.String(),
  webhookScheme: Type.String(),
  revocation: Type.Object({ kind: Type.String(), note: Type.String() }),
});

function present({ descriptor, availability }: CatalogRow) {
  return {
    id: descriptor.id,
    availability,
    displayName: descriptor.displayName,
    authKind: descriptor.authKind,
    pkce: descriptor.pkce,
    scopes: { required: [...descriptor.scopes.required], optional: [...descriptor.scopes.optional] },
    customerControl: descriptor.customerControl,
    dataIn: [...descriptor.dataIn],
    dataOut: [...descriptor.dataOut],
    syncMode: descriptor.syncMode,
    webhookScheme: descriptor.webhook.scheme,
    revocation: descriptor.revocation,
  };
}

export function registerVendorRoutes(app: Api, services: Pick<ApiServices, 'vendors'>): void {
  app.get(
    '/v1/vendors',
    {
      schema: {
        tags: ['vendors'],
        summary: 'Every vendor row: availability, scopes, auth kind, customer controls, data in/out',
        response: { 200: Type.Object({ vendors: Type.Array(VendorSchema) }), ...problemResponses() },
      },
      config: { access: { action: 'vendors.list', permission: 'read' } },
    },
    async () => ({ vendors: [...services.vendors.values()].map(present) }),
  );
}

/** Connecting a row this deployment cannot serve: 422 naming the row and why (planned, or our app not configured). */
export function vendorUnavailable({ descriptor, availability }: CatalogRow, pointer: string): HttpProblem {
  const why =
    availability === 'planned'
      ? `${descriptor.displayName} is on the vendor matrix but not built yet`
      : `${descriptor.displayName} is not configured in this deployment`;
  return new HttpProblem(422, `${why}: it cannot be connected`, {
    errors: [{ pointer, detail: `${descriptor.id} is ${availability}` }],
  });
}
