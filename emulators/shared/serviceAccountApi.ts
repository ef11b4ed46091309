/**
 * The parts every customer-run REST vendor's emulator shares (Oracle ERP Cloud, Primavera P6): the
 * basic-auth service accounts, an on-demand 429 storm on the API's paths, the vendor's business
 * objects kept per collection with a numeric id and a last-update time (a delete leaves no
 * tombstone), and the comparison of one filter condition. Each vendor's query syntax, answer shape
 * and error bodies stay in its own emulator: they are its published contract.
 */
import { createEmulatorClock, type EmulatorClock } from './clock';
import { startEmulatorServer, type EmulatorResponse, type EmulatorRouter, type StartedServer } from './http';
import { createRateStorm, tooManyRequests, type RateStorm } from './rateStorm';
import { createServiceAccounts, type ServiceAccounts } from './serviceAccounts';

type Json = Record<string, unknown>;

/** One stored object: its id under the vendor's own name (`id`, `ObjectId`), its fields and when it last changed. */
export type StoredObject<K extends string> = { [key in K]: number } & { fields: Json; lastUpdateMs: number };

export interface ObjectStore<C extends string, K extends string> {
  add(collection: C, fields: Json): StoredObject<K>;
  /** Merges `fields` in and stamps the change; throws for an unknown id (a test's mistake). */
  update(collection: C, id: number, fields: Json): StoredObject<K>;
  remove(collection: C, id: number): void;
  get(collection: C, id: number): StoredObject<K> | undefined;
  all(collection: C): StoredObject<K>[];
}

export function createObjectStore<C extends string, K extends string>(options: {
  collections: readonly C[];
  idKey: K;
  firstId: number;
  clock: EmulatorClock;
}): ObjectStore<C, K> {
  const tables = new Map(options.collections.map((collection) => [collection, new Map<number, StoredObject<K>>()]));
  const table = (collection: C) => tables.get(collection)!;
  let nextId = options.firstId;
  return {
    add(collection, fields) {
      const added = { [options.idKey]: nextId++, fields, lastUpdateMs: options.clock.now() } as StoredObject<K>;
      table(collection).set(added[options.idKey], added);
      return added;
    },
    update(collection, id, fields) {
      const found = table(collection).get(id);
      if (!found) throw new Error(`no ${collection} ${id}`);
      found.fields = { ...found.fields, ...fields };
      found.lastUpdateMs = options.clock.now();
      return found;
    },
    remove: (collection, id) => void table(collection).delete(id),
    get: (collection, id) => table(collection).get(id),
    all: (collection) => [...table(collection).values()],
  };
}

export interface ServiceAccountApi<C extends string, K extends string> {
  clock: EmulatorClock;
  users: ServiceAccounts;
  storm: RateStorm;
  objects: ObjectStore<C, K>;
  /** Serves `router`; the storm answers only below `apiPrefix` (the API, not the emulator's other paths). */
  start(router: EmulatorRouter, apiPrefix: string): Promise<StartedServer>;
  /** The methods a collection does not serve answer 405 with the vendor's body. */
  refuseMethods(router: EmulatorRouter, path: string, methods: readonly string[], answer: EmulatorResponse): void;
  /** The control every such emulator offers, over the started server. */
  control(server: StartedServer): ServiceAccountApiControl<C, K>;
}

export interface ServiceAccountApiControl<C extends string, K extends string> {
  clock: EmulatorClock;
  requests: StartedServer['requests'];
  add: ObjectStore<C, K>['add'];
  update: ObjectStore<C, K>['update'];
  remove: ObjectStore<C, K>['remove'];
  /** The next `count` API requests answer 429 with Retry-After. */
  throttle(count: number, retryAfterSeconds: number): void;
}

export function createServiceAccountApi<C extends string, K extends string>(options: {
  clock?: EmulatorClock;
  /** The realm of the Basic challenge of a refused sign-in. */
  realm: string;
  collections: readonly C[];
  idKey: K;
  firstId: number;
}): ServiceAccountApi<C, K> {
  const clock = options.clock ?? createEmulatorClock();
  const storm = createRateStorm();
  const objects = createObjectStore({ ...options, clock });
  return {
    clock,
    users: createServiceAccounts(options.realm),
    storm,
    objects,
    start: (router, apiPrefix) =>
      startEmulatorServer({
        router,
        before: (request) => (request.path.startsWith(apiPrefix) ? storm.intercept() : undefined),
      }),
    refuseMethods(router, path, methods, answer) {
      for (const method of methods) router.on(method, path, () => answer);
    },
    control: (server) => ({
      clock,
      requests: server.requests,
      add: objects.add,
      update: objects.update,
      remove: objects.remove,
      throttle: (count, retryAfterSeconds) => storm.start(count, tooManyRequests(retryAfterSeconds)),
    }),
  };
}

export type Comparison = 'eq' | 'gt' | 'lt' | 'gte' | 'lte';

/** A condition's literal as the vendor's filter syntax wrote it: quoted text or a number. */
export interface Literal {
  quoted?: string;
  numeric?: string;
}

/**
 * One filter condition over an object's field: a number literal compares numbers, a text literal
 * strings; `compareTime`, for a literal that is a timestamp in the vendor's form, gives the field's
 * time minus the literal's instead. Values that do not compare (undefined) do not match.
 */
export function fieldCondition(
  field: string,
  comparison: Comparison,
  literal: Literal,
  compareTime?: (value: unknown) => number | undefined,
): (object: Json) => boolean {
  const compare = compareTime ?? ((value: unknown) => compareLiteral(value, literal));
  return (object) => {
    const diff = compare(object[field]);
    if (diff === undefined) return false;
    return { eq: diff === 0, gt: diff > 0, lt: diff < 0, gte: diff >= 0, lte: diff <= 0 }[comparison];
  };
}

function compareLiteral(value: unknown, literal: Literal): number | undefined {
  if (literal.numeric !== undefined) return typeof value === 'number' ? value - Number(literal.numeric) : undefined;
  return typeof value === 'string' ? value.localeCompare(literal.quoted!) : undefined;
}
