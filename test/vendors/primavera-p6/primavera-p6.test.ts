/**
 * Primavera P6 connector (the shared REST client) against the P6 emulator: the service account's
 * sign-in, REST module access and project access, Fields/Filter reads of the selected projects only,
 * incremental rounds on LastUpdateDate, 429 + Retry-After, the id sweep by ObjectId, the project
 * picker, and activity status updates only when enabled and only on selected projects.
 */
import { VendorFailureType } from '../../../activities/vendors/errors';
import { P6_READ, primaveraDescriptor } from '../../../activities/vendors/primavera-p6';
import { waitingOutBudget } from '../support/budgets';
import { expectVendorError, harnessForFile } from '../support/connectorTests';
import { P6_PASSWORD, startPrimaveraHarness, type PrimaveraHarness } from './harness';

let h: PrimaveraHarness;

harnessForFile(startPrimaveraHarness, (started) => (h = started));

const requestsSince = (from: number) => h.emulator.control.requests.slice(from);
/** Project ObjectIds a request's Filter named (or, for the project resource, asked by ObjectId). */
const projectsNamed = (from: number) =>
  requestsSince(from).flatMap((r) =>
    [
      ...String(r.query.Filter ?? '').matchAll(
        /(?:ProjectObjectId|OriginalProjectObjectId|^ObjectId|:or: ObjectId):eq:(\d+)/g,
      ),
    ].map((m) => Number(m[1])),
  );
const enabled = () => ({
  projects: [String(h.projects.tower.ObjectId), String(h.projects.depot.ObjectId)],
  'status-updates': ['enabled'],
});

describe('Primavera P6 connect', () => {
  test('T1 T6 T18 [primavera-p6]: the connection test signs in as the submitted service account (basic auth) and checks it sees the selected projects, asking about nothing else', async () => {
    expect(primaveraDescriptor.scopes).toEqual({ required: [P6_READ], optional: [] });
    const from = h.emulator.control.requests.length;
    await h.connector.testConnection(h.context());
    const sent = requestsSince(from);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /p6ws/restapi/project']);
    expect(Buffer.from(String(sent[0]!.headers.authorization).replace(/^Basic /, ''), 'base64').toString()).toBe(
      `trackproject.p6:${P6_PASSWORD}`,
    );
    expect(projectsNamed(from).sort()).toEqual([h.projects.tower.ObjectId, h.projects.depot.ObjectId].sort());
  });

  test('T6 T18 [primavera-p6]: a refused password, an account without REST module access and an account that cannot see a selected project each fail the test, the last two naming what is missing', async () => {
    const { control } = h.emulator;
    await expectVendorError(
      h.connector.testConnection(h.context({ credential: h.credential({ password: 'nope' }) })),
      VendorFailureType.ReauthorizationRequired,
    );
    control.addUser('no.rest', 'pw-1', { projects: [h.projects.tower.ObjectId], restAccess: false });
    const noRest = await expectVendorError(
      h.connector.testConnection(h.context({ credential: h.credential({ username: 'no.rest', password: 'pw-1' }) })),
      VendorFailureType.MissingScope,
    );
    expect(noRest.message).toContain('REST API module access');
    control.addUser('tower.only', 'pw-2', { projects: [h.projects.tower.ObjectId] });
    const hidden = await expectVendorError(
      h.connector.testConnection(h.context({ credential: h.credential({ username: 'tower.only', password: 'pw-2' }) })),
      VendorFailureType.MissingScope,
    );
    expect(hidden.message).toContain(`project ${h.projects.depot.ObjectId}`);
    expect(`${noRest.message} ${hidden.message}`).not.toMatch(/pw-\d/);
  });

  test('T18 [primavera-p6]: without a project selection nothing is requested; the picker lists the projects the account sees', async () => {
    const from = h.emulator.control.requests.length;
    await expectVendorError(
      h.connector.testConnection(h.context({ controls: {} })),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      h.connector.fetchPage(h.context({ controls: {} }), { resource: 'activities', cursor: null }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(requestsSince(from)).toEqual([]);
    const picker = await h.connector.listControlChoices!(h.context({ controls: {} }), { cursor: null });
    expect(picker).toEqual({
      choices: [h.projects.tower, h.projects.depot, h.projects.office].map((p) => ({
        id: String(p.ObjectId),
        name: `${String(p.fields.Id)} ${String(p.fields.Name)}`,
      })),
      nextCursor: null,
    });
  });
});

describe('Primavera P6 sync', () => {
  test('T11 T18 [primavera-p6]: a round reads each selected project with Fields and a project Filter; the next asks only what changed since (LastUpdateDate:gt:) and brings each change once; the unselected project is never named', async () => {
    const { control } = h.emulator;
    const { tower, depot, office } = h.projects;
    const add = (project: typeof tower, n: number) =>
      control.add('activity', {
        Id: `A${n}`,
        Name: `activity ${n}`,
        ProjectObjectId: project.ObjectId,
        Status: 'Not Started',
      });
    const towerActivities = [1, 2, 3].map((n) => add(tower, n));
    const depotActivities = [4, 5].map((n) => add(depot, n));
    add(office, 6);
    const ctx = h.context();
    const from = control.requests.length;
    const first = await h.round(ctx, 'activities', null);
    expect(first.pages).toBe(2);
    expect(first.records.map((r) => r.externalId).sort()).toEqual(
      [...towerActivities, ...depotActivities].map((a) => String(a.ObjectId)).sort(),
    );
    const reads = requestsSince(from);
    expect(reads.every((r) => r.path === '/p6ws/restapi/activity' && r.query.Fields!.includes('LastUpdateDate'))).toBe(
      true,
    );
    expect(reads.map((r) => r.query.Filter)).toEqual([
      `ProjectObjectId:eq:${tower.ObjectId}`,
      `ProjectObjectId:eq:${depot.ObjectId}`,
    ]);

    control.clock.advance(5 * 60_000);
    control.update('activity', depotActivities[0]!.ObjectId, { Name: 'activity 4 renamed' });
    const next = control.requests.length;
    const second = await h.round(ctx, 'activities', first.cursor);
    expect(second.records.map((r) => [r.externalId, r.payload.Name])).toEqual([
      [String(depotActivities[0]!.ObjectId), 'activity 4 renamed'],
    ]);
    expect(requestsSince(next)[0]!.query.Filter).toMatch(
      new RegExp(
        `^ProjectObjectId:eq:${tower.ObjectId} :and: LastUpdateDate:gt:'\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d'$`,
      ),
    );
    const third = await h.round(ctx, 'activities', second.cursor);
    expect(third.records).toEqual([]);
    expect(projectsNamed(from)).not.toContain(office.ObjectId);
  });

  test('T11 [primavera-p6]: schedules and baselines are read by their project fields', async () => {
    const { control } = h.emulator;
    const { tower, office } = h.projects;
    const baseline = control.add('baselineProject', {
      Id: 'P-1-B1',
      Name: 'Original plan',
      OriginalProjectObjectId: tower.ObjectId,
    });
    control.add('baselineProject', { Id: 'P-3-B1', Name: 'Office plan', OriginalProjectObjectId: office.ObjectId });
    const ctx = h.context();
    const schedules = await h.round(ctx, 'schedules', null);
    expect(schedules.records.map((r) => r.payload.Name).sort()).toEqual(['Depot', 'Tower A']);
    const baselines = await h.round(ctx, 'baselines', null);
    expect(baselines.records.map((r) => r.externalId)).toEqual([String(baseline.ObjectId)]);
  });

  test('T12 [primavera-p6]: a 429 is RateLimited with the server’s Retry-After and blocks its budget until it passes', async () => {
    const { control } = h.emulator;
    control.clock.advance(2 * 60_000);
    control.throttle(1, 5);
    const limited = await expectVendorError(
      h.connector.fetchPage(h.context(), { resource: 'schedules', cursor: null }),
      VendorFailureType.RateLimited,
    );
    expect(limited.details).toMatchObject({ status: 429, retryAfterMs: 5_000 });
    const from = control.requests.length;
    await expectVendorError(
      h.connector.fetchPage(h.context(), { resource: 'schedules', cursor: null }),
      VendorFailureType.RateLimited,
    );
    expect(requestsSince(from)).toEqual([]);
    control.clock.advance(5_000);
    expect((await h.connector.fetchPage(h.context(), { resource: 'schedules', cursor: null })).records.length).toBe(1);
  });

  test('T15 [primavera-p6]: the id sweep lists every ObjectId of the selected projects, one project a page, so an activity deleted in P6 is found missing', async () => {
    const { control } = h.emulator;
    const ctx = h.context();
    const sweep = async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { ids: string[]; nextCursor: string | null } = await waitingOutBudget(
          () => h.connector.listSourceIds!(ctx, { resource: 'activities', cursor }),
          control.clock,
        );
        ids.push(...page.ids);
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };
    const before = await sweep();
    const selected = [h.projects.tower.ObjectId, h.projects.depot.ObjectId];
    expect(before.length).toBeGreaterThan(0);
    for (const id of before) expect(selected).toContain(control.get('activity', Number(id))!.fields.ProjectObjectId);
    const gone = Number(before[0]);
    control.remove('activity', gone);
    const after = await sweep();
    expect(after.sort()).toEqual(before.filter((id) => id !== String(gone)).sort());
  });
});

describe('Primavera P6 data out', () => {
  test('T19 [primavera-p6]: a status update goes out only while the admin enabled it, only to an activity of a selected project, only with a P6 status; every refusal is audited and writes nothing', async () => {
    const { control } = h.emulator;
    const { tower, office } = h.projects;
    const mine = control.add('activity', {
      Id: 'S1',
      Name: 'pour slab',
      ProjectObjectId: tower.ObjectId,
      Status: 'Not Started',
    });
    const theirs = control.add('activity', {
      Id: 'S2',
      Name: 'office',
      ProjectObjectId: office.ObjectId,
      Status: 'Not Started',
    });
    const writes = () => control.requests.filter((r) => r.method !== 'GET');
    const update = (ctx: ReturnType<typeof h.context>, input: Record<string, unknown>) =>
      waitingOutBudget(() => h.connector.perform(ctx, 'status-update', input), control.clock);

    // Not enabled: refused before any request.
    const off = h.context();
    await expectVendorError(
      update(off, { activityObjectId: String(mine.ObjectId), status: 'In Progress' }),
      VendorFailureType.OutsideCustomerControls,
    );
    // Enabled, but the activity is in the unselected project (its project is read from P6, not trusted).
    const on = h.context({ controls: enabled() });
    await expectVendorError(
      update(on, { activityObjectId: String(theirs.ObjectId), status: 'Completed' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      update(on, { activityObjectId: String(mine.ObjectId), status: 'Done' }),
      VendorFailureType.VendorRejected,
    );
    await expectVendorError(
      waitingOutBudget(() => h.connector.perform(on, 'activity.delete', {}), control.clock),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(writes()).toEqual([]);
    expect(control.get('activity', theirs.ObjectId)!.fields.Status).toBe('Not Started');

    const done = await update(on, { activityObjectId: String(mine.ObjectId), status: 'In Progress' });
    expect(done).toEqual({ externalId: String(mine.ObjectId), status: 'In Progress' });
    expect(writes().map((r) => [r.method, r.path, r.body])).toEqual([
      ['PUT', '/p6ws/restapi/activity', [{ ObjectId: mine.ObjectId, Status: 'In Progress' }]],
    ]);
    expect(control.get('activity', mine.ObjectId)!.fields.Status).toBe('In Progress');
    expect(off.auditEntries.map((e) => `${e.action} ${e.outcome}`)).toEqual(['status-update failure']);
  });
});
