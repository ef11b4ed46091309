/**
 * T6 for the service-account rows through the real API, the real connect workflow and each vendor's
 * emulator: the admin connects over HTTP with a service account the customer's tenant has not granted
 * a role; the connection test fails, and the integration's status, read over HTTP, names the missing
 * permission (`connect.missingPermission`) in the words the customer's admin grants it, carries no
 * secret, and the integration is not active (nothing connected, the credential destroyed).
 */
import crypto from 'node:crypto';
import { oracleErpDescriptor } from '../../activities/vendors/oracle-erp';
import { primaveraDescriptor } from '../../activities/vendors/primavera-p6';
import { SAP_MATRIX_SCOPE, sapDescriptor } from '../../activities/vendors/sap';
import { createSapConnector } from '../../activities/vendors/sap/connector';
import { startSapEmulator, type SapEmulator } from '../../emulators/sap';
import { startOracleErpHarness, type OracleErpHarness } from '../vendors/oracle-erp/harness';
import { startPrimaveraHarness, type PrimaveraHarness } from '../vendors/primavera-p6/harness';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, type Harness } from './support/harness';
import { withRealWorkflows } from './support/journey';

describe('T6: a service account lacking a role fails the connect naming the permission (API, real workflows, emulators)', () => {
  const secretsKey = crypto.randomBytes(32);
  let h: Harness;
  let worker: VendorHarness;
  let sap: SapEmulator;
  let erp: OracleErpHarness;
  let p6: PrimaveraHarness;

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    sap = await startSapEmulator();
    erp = await startOracleErpHarness();
    p6 = await startPrimaveraHarness();
    worker = createVendorHarness(
      [
        { descriptor: sapDescriptor, connector: createSapConnector({ apiDomains: ['127.0.0.1'], allowHttp: true }) },
        { descriptor: oracleErpDescriptor, connector: erp.connector },
        { descriptor: primaveraDescriptor, connector: p6.connector },
      ],
      { key: secretsKey },
    );
  });
  afterAll(async () => {
    await worker.close();
    await sap.stop();
    await erp.emulator.stop();
    await p6.emulator.stop();
    await h.close();
  });

  /**
   * Connects `payload` over HTTP as a workspace admin with a worker of the real workflows, waits for
   * the connect to fail, and answers the status the admin reads, its raw body and the integration id.
   */
  async function failedConnect(payload: Record<string, unknown>, password: string) {
    const ws = crypto.randomUUID();
    const admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
    return await withRealWorkflows(h, worker, async () => {
      const connect = await h.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${ws}/integrations`,
        headers: admin,
        payload,
      });
      expect(connect.statusCode).toBe(202);
      expect(connect.body).not.toContain(password);
      const { integrationId } = connect.json() as { integrationId: string };
      const read = () =>
        h.app.inject({ method: 'GET', url: `/v1/workspaces/${ws}/integrations/${integrationId}`, headers: admin });
      await pollUntil(
        async () => (await read()).json(),
        (s) => s.connect?.status === 'failed',
        60_000,
      );
      // The connect's compensation destroys the credential after its status says failed: give it the
      // worker until then (it stops when this returns), or the credential stays merely retired.
      await pollUntil(
        async () => h.su('secrets').where({ integration_id: integrationId, kind: 'service-account' }),
        (rows) => rows.length > 0 && rows.every((row) => row.state === 'destroyed'),
        30_000,
      ).catch(() => undefined);
      const answer = await read();
      expect(answer.statusCode).toBe(200);
      return { status: answer.json(), body: answer.body, integrationId };
    });
  }

  /** Not active: no connected row, no lifecycle answering, and the submitted credential destroyed. */
  async function expectNotActive(status: { status: string; live?: unknown }, integrationId: string, password: string) {
    expect(status.status).not.toBe('connected');
    expect(status.live).toBeUndefined();
    const secrets = await h.su('secrets').where({ integration_id: integrationId, kind: 'service-account' });
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(secret.state).toBe('destroyed');
      expect(secret.ciphertext).toBeNull();
    }
    const audit = await h.su('audit_log').where({ integration_id: integrationId });
    expect(JSON.stringify(audit)).not.toContain(password);
  }

  it('T6 [sap]: a communication user without the delivery scenario: the status read over HTTP names the scenario, carries no secret, and the integration is not active', async () => {
    const user = sap.control.addUser(['SAP_COM_0053']);
    const { status, body, integrationId } = await failedConnect(
      { vendor: 'sap', scopes: [SAP_MATRIX_SCOPE], credential: { url: sap.url, ...user } },
      user.password,
    );
    expect(status.connect).toMatchObject({
      status: 'failed',
      failure: 'MissingScope',
      missingPermission:
        'communication scenario for API_OUTBOUND_DELIVERY_SRV (Outbound Delivery Integration, SAP_COM_0106)',
    });
    expect(body).not.toContain(user.password);
    await expectNotActive(status, integrationId, user.password);
  }, 180_000);

  it('T6 [oracle-erp]: a service account without the supplier duty role: the status read over HTTP names the role, carries no secret, and the integration is not active', async () => {
    const password = crypto.randomBytes(12).toString('base64url');
    erp.emulator.control.addUser('buyer.only', password, ['Procurement REST Service Duty']);
    const { status, body, integrationId } = await failedConnect(
      { vendor: 'oracle-erp', credential: erp.credential({ username: 'buyer.only', password }) },
      password,
    );
    expect(status.connect).toMatchObject({
      status: 'failed',
      failure: 'MissingScope',
      missingPermission: 'Supplier Profile Inquiry Duty',
    });
    expect(body).not.toContain(password);
    await expectNotActive(status, integrationId, password);
  }, 180_000);

  it('T6 [primavera-p6]: a service account without OBS access to a selected project: the status read over HTTP names the project access, carries no secret, and the integration is not active', async () => {
    const password = crypto.randomBytes(12).toString('base64url');
    const { tower, depot } = p6.projects;
    p6.emulator.control.addUser('tower.only', password, { projects: [tower.ObjectId] });
    const { status, body, integrationId } = await failedConnect(
      {
        vendor: 'primavera-p6',
        credential: p6.credential({ username: 'tower.only', password }),
        controls: { projects: [String(tower.ObjectId), String(depot.ObjectId)] },
      },
      password,
    );
    expect(status.connect).toMatchObject({
      status: 'failed',
      failure: 'MissingScope',
      missingPermission: `OBS access to project ${depot.ObjectId}`,
    });
    expect(body).not.toContain(password);
    await expectNotActive(status, integrationId, password);
  }, 180_000);
});
