/** `GET /v1/vendors`: what each vendor connection asks for and allows (the matrix, T1, T18, T19). */
import { Type } from 'typebox';
import type { VendorDescriptor } from '../../activities/vendors/types';
import { problemResponses } from '../problem';
import type { ApiServices } from '../services';
import type { Api } from '../types';

const VendorSchema = Type.Object({
  id: Type.String(),
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

function present(descriptor: VendorDescriptor) {
  return {
    id: descriptor.id,
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
        summary: 'Vendors that can be connected: scopes, auth kind, customer controls, data in/out',
        response: { 200: Type.Object({ vendors: Type.Array(VendorSchema) }), ...problemResponses() },
      },
      config: { access: { action: 'vendors.list', permission: 'read' } },
    },
    async () => ({ vendors: [...services.vendors.values()].map(present) }),
  );
}
