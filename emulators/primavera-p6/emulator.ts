/**
 * Oracle Primavera P6 EPPM emulator: the REST API under `/p6ws/restapi`, following P6's contract —
 * - `GET /project`, `/activity`, `/baselineProject` with `Fields` (required; unknown field: 400)
 *   and `Filter` (`Field:op:value`, ops `eq`, `gt`, `lt`, `gte`, `lte`, values quoted or numeric,
 *   conditions joined by ` :and: ` or ` :or: `); answers an unpaged JSON array of the named fields;
 * - `PUT /activity` with an array of `{ ObjectId, Status }` (Status one of P6's three);
 * - basic auth of the P6 users (401 with a Basic challenge); a user without REST module access
 *   gets 403; a user sees only the projects its OBS access grants (others are simply absent);
 * - 429 with Retry-After on demand; deleted objects are gone (no tombstones).
 * Other writes are not served (405); every request is logged for the tests.
 */
import {
  EmulatorRouter,
  isResponse,
  type EmulatorClock,
  type EmulatorRequest,
  type EmulatorResponse,
  type LoggedRequest,
  type ServiceAccount,
} from '../shared';
import {
  createServiceAccountApi,
  fieldCondition,
  type Comparison,
  type StoredObject,
} from '../shared/serviceAccountApi';

type Json = Record<string, unknown>;

export const P6_REST = '/p6ws/restapi';
/** The role that stands for P6's "REST API" module access. */
export const REST_MODULE = 'P6 REST API module access';
const STATUSES = ['Not Started', 'In Progress', 'Completed'];

export type P6Collection = 'project' | 'activity' | 'baselineProject';

/** Each business object's fields (a subset of P6's). */
const FIELDS: Record<P6Collection, readonly string[]> = {
  project: ['ObjectId', 'Id', 'Name', 'Status', 'DataDate', 'StartDate', 'FinishDate', 'LastUpdateDate'],
  activity: [
    'ObjectId',
    'Id',
    'Name',
    'ProjectObjectId',
    'Status',
    'PercentComplete',
    'PlannedStartDate',
    'PlannedFinishDate',
    'ActualStartDate',
    'ActualFinishDate',
    'LastUpdateDate',
  ],
  baselineProject: ['ObjectId', 'Id', 'Name', 'OriginalProjectObjectId', 'StartDate', 'FinishDate', 'LastUpdateDate'],
};

/** The field naming the project an object belongs to. */
const PROJECT_FIELD: Record<P6Collection, string> = {
  project: 'ObjectId',
  activity: 'ProjectObjectId',
  baselineProject: 'OriginalProjectObjectId',
};

export type P6Object = StoredObject<'ObjectId'>;

export interface PrimaveraEmulator {
  url: string;
  stop(): Promise<void>;
  control: {
    clock: EmulatorClock;
    requests: LoggedRequest[];
    /** A P6 user with REST module access (unless `restAccess: false`) and OBS access to `projects`. */
    addUser(username: string, password: string, access: { projects: number[]; restAccess?: boolean }): void;
    grantProject(username: string, projectId: number): void;
    add(collection: P6Collection, fields: Json): P6Object;
    update(collection: P6Collection, id: number, fields: Json): P6Object;
    remove(collection: P6Collection, id: number): void;
    get(collection: P6Collection, id: number): P6Object | undefined;
    throttle(count: number, retryAfterSeconds: number): void;
  };
}

/** P6's zone-less timestamps (the emulated server runs on UTC). */
export function p6Timestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

const badRequest = (detail: string): EmulatorResponse => ({ status: 400, body: { message: detail } });

type Condition = (object: Json) => boolean;

function parseCondition(text: string): Condition | undefined {
  const match = /^(\w+):(eq|gt|lt|gte|lte):(?:'([^']*)'|(-?\d+))$/.exec(text.trim());
  if (!match) return undefined;
  const [, field, op, quoted, numeric] = match;
  const isDate = quoted !== undefined && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(quoted);
  // P6's timestamps carry no zone: both sides are read as UTC.
  const compareTime = (value: unknown) =>
    typeof value === 'string' ? Date.parse(`${value}Z`) - Date.parse(`${quoted}Z`) : undefined;
  return fieldCondition(field!, op as Comparison, { quoted, numeric }, isDate ? compareTime : undefined);
}

function parseFilter(filter: string | null): Condition | undefined | 'invalid' {
  if (!filter) return undefined;
  const joiner = filter.includes(' :and: ') ? ' :and: ' : ' :or: ';
  if (filter.includes(' :and: ') && filter.includes(' :or: ')) return 'invalid';
  const conditions = filter.split(joiner).map(parseCondition);
  if (conditions.some((condition) => condition === undefined)) return 'invalid';
  return joiner === ' :and: '
    ? (object) => conditions.every((condition) => condition!(object))
    : (object) => conditions.some((condition) => condition!(object));
}

export async function startPrimaveraEmulator(options: { clock?: EmulatorClock } = {}): Promise<PrimaveraEmulator> {
  const api = createServiceAccountApi({
    clock: options.clock,
    realm: 'P6 EPPM',
    collections: ['project', 'activity', 'baselineProject'] as const,
    idKey: 'ObjectId',
    firstId: 4_501,
  });
  const { users, objects: store } = api;

  const asJson = (object: P6Object): Json => ({
    ...object.fields,
    ObjectId: object.ObjectId,
    LastUpdateDate: p6Timestamp(object.lastUpdateMs),
  });
  const visible = (account: ServiceAccount, collection: P6Collection, object: Json) =>
    account.roles.has(`project:${String(object[PROJECT_FIELD[collection]])}`);

  /** The signed-in user with REST access, or the 401/403 to answer. */
  function signIn(request: EmulatorRequest): ServiceAccount | EmulatorResponse {
    const account = users.authenticate(request);
    if (isResponse(account)) return account;
    if (!account.roles.has(REST_MODULE))
      return { status: 403, body: { message: 'User does not have access to the REST API module.' } };
    return account;
  }

  function read(collection: P6Collection, request: EmulatorRequest): EmulatorResponse {
    const account = signIn(request);
    if (isResponse(account)) return account;
    const fieldsText = request.query.get('Fields');
    if (!fieldsText) return badRequest('Fields is required');
    const filter = parseFilter(request.query.get('Filter'));
    if (filter === 'invalid') return badRequest('invalid Filter');
    const objects = store
      .all(collection)
      .map(asJson)
      .filter((object) => visible(account, collection, object) && (!filter || filter(object)));
    const fields = fieldsText.split(',');
    if (fields.some((field) => !FIELDS[collection].includes(field))) return badRequest('unknown field in Fields');
    // P6 leaves out the fields an object has no value for.
    return {
      status: 200,
      body: objects.map((object) =>
        Object.fromEntries(
          fields.filter((field) => object[field] !== undefined).map((field) => [field, object[field]]),
        ),
      ),
    };
  }

  function updateActivities(request: EmulatorRequest): EmulatorResponse {
    const account = signIn(request);
    if (isResponse(account)) return account;
    const updates = request.body;
    if (!Array.isArray(updates) || updates.length === 0) return badRequest('an array of activities is required');
    for (const update of updates as Json[]) {
      const activity = typeof update.ObjectId === 'number' ? store.get('activity', update.ObjectId) : undefined;
      if (!activity || !visible(account, 'activity', asJson(activity)))
        return badRequest(`activity ${String(update.ObjectId)} not found`);
      if (typeof update.Status !== 'string' || !STATUSES.includes(update.Status)) return badRequest('invalid Status');
    }
    for (const update of updates as Json[]) {
      store.update('activity', update.ObjectId as number, { Status: update.Status });
    }
    return { status: 200, body: (updates as Json[]).map((update) => update.ObjectId) };
  }

  const router = new EmulatorRouter();
  for (const collection of Object.keys(FIELDS) as P6Collection[]) {
    router.on('GET', `${P6_REST}/${collection}`, (request) => read(collection, request));
    api.refuseMethods(
      router,
      `${P6_REST}/${collection}`,
      ['POST', 'PATCH', 'DELETE', ...(collection === 'activity' ? [] : ['PUT'])],
      {
        status: 405,
        body: { message: 'Method Not Allowed' },
      },
    );
  }
  router.on('PUT', `${P6_REST}/activity`, updateActivities);
  const server = await api.start(router, P6_REST);

  return {
    url: server.url,
    stop: server.stop,
    control: {
      ...api.control(server),
      addUser(username, password, access) {
        users.add(username, password, [
          ...(access.restAccess === false ? [] : [REST_MODULE]),
          ...access.projects.map((id) => `project:${id}`),
        ]);
      },
      grantProject: (username, projectId) => void users.get(username)?.roles.add(`project:${projectId}`),
      get: store.get,
    },
  };
}
