/**
 * `GET /v1/vendors` lists every row of the vendor catalog with its availability, and connect
 * refuses a planned row with a 422 problem naming it, before any workflow starts.
 */
import crypto from 'node:crypto';
import { catalogRows } from '../../activities/vendors/catalog';
import { bearer, createHarness, TEST_APPS, type Harness } from './support/harness';

describe('vendor catalog over the API', () => {
  let h: Harness;
  const ws = crypto.randomUUID();
  let admin: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
  });
  afterAll(() => h.close());

  it('T1/T19: GET /v1/vendors lists all 18 matrix rows with their availability', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/v1/vendors', headers: admin });
    expect(response.statusCode).toBe(200);
    const vendors = response.json().vendors as Array<{ id: string; availability: string; scopes: unknown }>;
    expect(vendors).toHaveLength(18);
    const expected = catalogRows(TEST_APPS).map((row) => [row.descriptor.id, row.availability]);
    expect(vendors.map((v) => [v.id, v.availability])).toEqual(expected);
    expect(vendors.find((v) => v.id === 'slack')).toMatchObject({
      availability: 'available',
      scopes: { required: ['chat:write', 'channels:read'], optional: [] },
    });
    expect(vendors.find((v) => v.id === 'autodesk-acc')?.availability).toBe('available');
    expect(vendors.find((v) => v.id === 'autodesk-docs')?.availability).toBe('available');
    expect(vendors.find((v) => v.id === 'autodesk-tandem')?.availability).toBe('available');
    expect(vendors.find((v) => v.id === 'okta')?.availability).toBe('available');
    expect(vendors.find((v) => v.id === 'sap')).toMatchObject({
      availability: 'available',
      scopes: { required: ['Read purchase orders, deliveries'], optional: [] },
    });
    expect(vendors.find((v) => v.id === 'oracle-erp')).toMatchObject({
      availability: 'available',
      scopes: { required: ['Read purchase orders, suppliers'], optional: [] },
    });
    expect(vendors.find((v) => v.id === 'primavera-p6')).toMatchObject({
      availability: 'available',
      scopes: { required: ['Read schedules, activities, baselines'], optional: [] },
    });
    expect(vendors.find((v) => v.id === 'github')?.availability).toBe('available');
    expect(vendors.find((v) => v.id === 'procore')).toMatchObject({
      availability: 'available',
      scopes: { required: ['Read project, drawings, RFIs, daily logs'], optional: ['Write status updates'] },
    });
  });
});
