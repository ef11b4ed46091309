/**
 * Autodesk Platform Services emulator: one base address, as `developer.api.autodesk.com` is, with
 * the contracts our APS connector relies on —
 * - OAuth v2: `/authentication/v2/authorize` (code grant, exact redirect URI, S256 PKCE required),
 *   `/authentication/v2/token` (form body, client in a Basic header; 1 h access tokens; single-use
 *   refresh tokens: one presented twice is `invalid_grant` and ends the grant) and
 *   `/authentication/v2/revoke` (200 whatever the token; revoking either token ends the grant);
 * - Data Management JSON:API: `project/v1/hubs`, `hubs/{hub}/projects` (`filter[id]`), a project,
 *   its `topFolders`, `data/v1/projects/{project}/folders/{folder}/contents` paged with
 *   `page[number]`/`page[limit]` (at most 200) and `links.next`;
 * - ACC Issues (`limit`/`offset`, `filter[updatedAt]=<from>..<to>`) and RFIs (create);
 * - Tandem: facilities (twins) with their models and users (our app listed by client id once added as
 *   a service), model scans (a version marker, then one row per element) and mutations;
 * - Webhooks: hooks per event with a folder scope (recursive), `201` + `Location`, a per-hook secret
 *   token set by PATCH, `GET /webhooks/v1/hooks` paged with `pageState`, callbacks signed
 *   `x-adsk-signature: sha1hash=<HMAC-SHA1 of the body>` with the hook's token;
 * - 401 for an expired or revoked token, 403 for a project the user is not a member of, 429 with
 *   Retry-After on demand (a storm).
 */
import crypto from 'node:crypto';
import {
  EmulatorRouter,
  bearerGrant,
  bodyFields,
  clientCredentials,
  consentRedirect,
  createAppAuthority,
  createEmulatorClock,
  createRateStorm,
  postDelivery,
  redeemGrant,
  startEmulatorServer,
  tokenAnswer,
  tooManyRequests,
  type EmulatorClock,
  type EmulatorRequest,
  type EmulatorResponse,
  type LoggedRequest,
  type OAuthGrant,
} from '../shared';

type Json = Record<string, unknown>;

export interface AutodeskEmulatorOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  clock?: EmulatorClock;
}

const ACCESS_TOKEN_TTL_MS = 60 * 60_000;
const REFRESH_TOKEN_TTL_MS = 15 * 24 * 60 * 60_000;
const MAX_PAGE_LIMIT = 200;
const HOOKS_PAGE_SIZE = 2;
const SUBJECT = 'aps-user-1';

export interface ProjectState {
  id: string;
  hubId: string;
  name: string;
  topFolders: string[];
}

export interface FolderEntry {
  id: string;
  projectId: string;
  parentId: string | null;
  type: 'folders' | 'items';
  name: string;
  extensionType: string;
  modifiedAt: number;
}

export interface IssueState {
  id: string;
  projectId: string;
  displayId: number;
  title: string;
  status: string;
  issueSubtypeId: string;
  createdAt: number;
  updatedAt: number;
}

export interface HookState {
  hookId: string;
  event: string;
  callbackUrl: string;
  folder: string;
  hookAttribute: unknown;
  token?: string;
  /** Hooks belong to the Autodesk user who created them (3-legged). */
  subject: string;
}

export interface FacilityState {
  id: string;
  name: string;
  models: string[];
  /** Users and services with access: user ids or app client ids → access level. */
  users: Record<string, string>;
}

export interface AssetState {
  key: string;
  modelId: string;
  name: string;
  category: string;
  /** `z:` columns: the facility's user-defined parameters. */
  parameters: Record<string, string>;
}

export interface AutodeskDeliveryRecord {
  url: string;
  body: string;
  headers: Record<string, string>;
  status: number;
}

export interface AutodeskEmulatorControl {
  clock: EmulatorClock;
  requests: LoggedRequest[];
  addHub(name: string): string;
  /** The user leaves a hub (the account removes them). */
  removeHub(id: string): void;
  /** A project of a hub with its two top folders (Project Files, Plans). */
  addProject(hubId: string, name: string): ProjectState;
  addFolder(projectId: string, parentId: string, name: string): FolderEntry;
  /** A document in a folder; delivers `dm.version.added` to the hooks watching it. */
  addDocument(projectId: string, folderId: string, name: string, extensionType?: string): Promise<FolderEntry>;
  /** A new version of a document; delivers `dm.version.modified`. */
  updateDocument(id: string, name?: string): Promise<number[]>;
  entry(id: string): FolderEntry | undefined;
  addIssue(projectId: string, title: string): IssueState;
  /** A Tandem facility with one model the user can open; `service: true` adds our app as a service user. */
  addFacility(name: string, options?: { service?: boolean; member?: boolean }): FacilityState;
  addAsset(facilityId: string, name: string, parameters?: Record<string, string>): AssetState;
  asset(modelId: string, key: string): AssetState | undefined;
  updateIssue(id: string, fields: Partial<Pick<IssueState, 'title' | 'status'>>): IssueState;
  issues(): IssueState[];
  rfis(): Json[];
  hooks(): HookState[];
  deliveries(): AutodeskDeliveryRecord[];
  /** The next `count` API requests get a 429 with Retry-After. */
  startStorm(count: number, retryAfterSeconds?: number): void;
  /** The user removes the app under their Autodesk profile's connected apps: every grant ends. */
  revokeConsent(): void;
  /** Grants revoked at `/authentication/v2/revoke` so far. */
  revokedGrants(): number;
}

export interface AutodeskEmulator {
  url: string;
  stop(): Promise<void>;
  control: AutodeskEmulatorControl;
}

const urn = (kind: string) => `urn:adsk.wipprod:${kind}:${crypto.randomBytes(9).toString('base64url')}`;
const iso = (ms: number) => new Date(ms).toISOString();
const apsError = (status: number, title: string): EmulatorResponse => ({
  status,
  body: { jsonapi: { version: '1.0' }, errors: [{ status: String(status), code: 'ERROR', title, detail: title }] },
});

/** `<from>..<to>` (either end may be open). */
function parseRange(value: string | null): { from: number; to: number } | 'invalid' | undefined {
  if (value === null) return undefined;
  const [from, to, ...rest] = value.split('..');
  const range = { from: from ? Date.parse(from) : -Infinity, to: to ? Date.parse(to) : Infinity };
  return rest.length > 0 || Number.isNaN(range.from) || Number.isNaN(range.to) ? 'invalid' : range;
}

/** APS takes the client in a Basic header; without one, only a public client's id in the body. */
const apsClient = (request: EmulatorRequest) => clientCredentials(request, { basic: true, secretInBody: false });

export async function startAutodeskEmulator(options: AutodeskEmulatorOptions): Promise<AutodeskEmulator> {
  const clock = options.clock ?? createEmulatorClock();
  const now = () => clock.now();
  // Refresh tokens are single-use: no reuse is ever tolerated (a negative grace).
  const authority = createAppAuthority(options, {
    clock,
    accessTokenTtlMs: ACCESS_TOKEN_TTL_MS,
    refreshTokenTtlMs: REFRESH_TOKEN_TTL_MS,
    refreshReuseGraceMs: -1,
  });
  const hubs = new Map<string, string>();
  const projects = new Map<string, ProjectState>();
  const entries = new Map<string, FolderEntry>();
  const issues = new Map<string, IssueState>();
  const rfis: Json[] = [];
  const facilities = new Map<string, FacilityState>();
  const assets = new Map<string, AssetState>();
  const hooks = new Map<string, HookState>();
  const deliveries: AutodeskDeliveryRecord[] = [];
  const storm = createRateStorm();
  let revoked = 0;
  let baseUrl = '';

  type Handler = (request: EmulatorRequest, grant: OAuthGrant) => EmulatorResponse | Promise<EmulatorResponse>;
  const authed =
    (handler: Handler) =>
    async (request: EmulatorRequest): Promise<EmulatorResponse> => {
      const grant = bearerGrant(authority, request);
      if (!grant)
        return {
          status: 401,
          body: { developerMessage: 'The token is not valid', errorCode: 'AUTH-001', more_info: '' },
        };
      return storm.intercept() ?? handler(request, grant);
    };

  /** A project the user is a member of, addressed by its Data Management (`b.`) or product (bare) id. */
  function projectOf(raw: string | undefined): ProjectState | undefined {
    const id = raw?.startsWith('b.') ? raw : `b.${raw ?? ''}`;
    return projects.get(id.toLowerCase());
  }

  const entryJson = (entry: FolderEntry): Json => ({
    type: entry.type,
    id: entry.id,
    attributes: {
      name: entry.name,
      displayName: entry.name,
      createTime: iso(entry.modifiedAt),
      lastModifiedTime: iso(entry.modifiedAt),
      lastModifiedUserName: 'Site Engineer',
      hidden: false,
      extension: { type: entry.extensionType, version: '1.0' },
    },
    links: { self: { href: `${baseUrl}/data/v1/projects/${entry.projectId}/${entry.type}/${entry.id}` } },
  });
  const projectJson = (project: ProjectState): Json => ({
    type: 'projects',
    id: project.id,
    attributes: { name: project.name, extension: { type: 'projects:autodesk.bim360:Project', version: '1.0' } },
    relationships: { hub: { data: { type: 'hubs', id: project.hubId } } },
  });
  const issueJson = (issue: IssueState): Json => ({
    id: issue.id,
    displayId: issue.displayId,
    title: issue.title,
    description: 'Found on site by the superintendent',
    status: issue.status,
    issueSubtypeId: issue.issueSubtypeId,
    issueTypeId: 'type-quality',
    assignedTo: 'PER8KQPK2JRT',
    createdBy: 'PER8KQPK2JRT',
    createdAt: iso(issue.createdAt),
    updatedAt: iso(issue.updatedAt),
  });

  /** The folder chain from an entry up to its top folder: the scopes a hook on any of them covers. */
  function ancestors(folderId: string): string[] {
    const chain: string[] = [];
    for (let id: string | null = folderId; id; id = entries.get(id)?.parentId ?? null) chain.push(id);
    return chain;
  }

  async function deliver(entry: FolderEntry, event: string): Promise<number[]> {
    const scopes = ancestors(entry.parentId!);
    const targets = [...hooks.values()].filter((hook) => hook.event === event && scopes.includes(hook.folder));
    return Promise.all(
      targets.map(async (hook) => {
        const body = JSON.stringify({
          version: '1.0',
          resourceUrn: `${entry.id.replace('dm.lineage', 'fs.file')}?version=1`,
          hook: {
            hookId: hook.hookId,
            tenant: hook.folder,
            callbackUrl: hook.callbackUrl,
            createdBy: SUBJECT,
            event: hook.event,
            system: 'data',
            creatorType: 'O2User',
            status: 'active',
            scope: { folder: hook.folder },
            hookAttribute: hook.hookAttribute,
            urn: `urn:adsk.webhooks:events.hook:${hook.hookId}`,
          },
          payload: {
            ext: entry.name.split('.').at(-1),
            name: entry.name,
            lineageUrn: entry.id,
            version: '1',
            parentFolderUrn: entry.parentId,
            project: entry.projectId.replace(/^b\./, ''),
            createdTime: iso(entry.modifiedAt),
            modifiedTime: iso(entry.modifiedAt),
            user_info: { id: 'PER8KQPK2JRT' },
          },
        });
        const headers: Record<string, string> = hook.token
          ? { 'x-adsk-signature': `sha1hash=${crypto.createHmac('sha1', hook.token).update(body).digest('hex')}` }
          : {};
        const status = await postDelivery(hook.callbackUrl, body, headers);
        deliveries.push({ url: hook.callbackUrl, body, headers, status });
        return status;
      }),
    );
  }

  function pageOf(request: EmulatorRequest, all: Json[]): EmulatorResponse {
    const limit = Number(request.query.get('page[limit]') ?? MAX_PAGE_LIMIT);
    const number = Number(request.query.get('page[number]') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT || !Number.isInteger(number) || number < 0)
      return apsError(400, 'page[limit] must be 1-200 and page[number] a page index');
    const next = new URL(`${baseUrl}${request.path}`);
    next.searchParams.set('page[number]', String(number + 1));
    next.searchParams.set('page[limit]', String(limit));
    const more = (number + 1) * limit < all.length;
    return {
      status: 200,
      body: {
        jsonapi: { version: '1.0' },
        links: { self: { href: `${baseUrl}${request.path}` }, ...(more ? { next: { href: next.toString() } } : {}) },
        data: all.slice(number * limit, (number + 1) * limit),
      },
    };
  }

  /** A facility the token's user can open (Tandem answers 403 for one they are not a member of). */
  function facilityOf(raw: string | undefined): FacilityState | EmulatorResponse {
    const facility = facilities.get(raw ?? '');
    if (!facility) return { status: 404, body: { message: 'Not found' } };
    if (!facility.users[SUBJECT]) return { status: 403, body: { message: 'Forbidden' } };
    return facility;
  }
  const modelFacility = (modelId: string | undefined) =>
    [...facilities.values()].find((facility) => facility.models.includes(modelId ?? ''));

  const hookPath = '/webhooks/v1/systems/data/events/:event/hooks';
  const hookOf = (request: EmulatorRequest, grant: OAuthGrant) => {
    const hook = hooks.get(request.params.hookId ?? '');
    return hook && hook.event === request.params.event && hook.subject === grant.subject ? hook : undefined;
  };

  const router = new EmulatorRouter()
    .on(
      'GET',
      '/tandem/v1/twins/:facilityId',
      authed((request) => {
        const facility = facilityOf(request.params.facilityId);
        if (!('id' in facility)) return facility;
        return {
          status: 200,
          body: {
            props: { 'Identity Data': { 'Building Name': facility.name } },
            links: facility.models.map((modelId, index) => ({
              modelId,
              label: `${facility.name} model`,
              main: index === 0,
            })),
            settings: { templateName: 'Facility template' },
          },
        };
      }),
    )
    .on(
      'GET',
      '/tandem/v1/twins/:facilityId/users',
      authed((request) => {
        const facility = facilityOf(request.params.facilityId);
        if (!('id' in facility)) return facility;
        return {
          status: 200,
          body: Object.fromEntries(
            Object.entries(facility.users).map(([id, accessLevel]) => [id, { accessLevel, grantedAt: iso(now()) }]),
          ),
        };
      }),
    )
    .on(
      'POST',
      '/tandem/v1/modeldata/:modelId/scan',
      authed((request) => {
        const facility = modelFacility(request.params.modelId);
        const checked = facilityOf(facility?.id);
        if (!('id' in checked)) return checked;
        const families = ((request.body ?? {}) as { families?: unknown }).families;
        if (!Array.isArray(families)) return { status: 400, body: { message: 'families are required' } };
        const rows = [...assets.values()]
          .filter((asset) => asset.modelId === request.params.modelId)
          .map((asset) => ({
            k: asset.key,
            ...(families.includes('n') ? { 'n:n': asset.name, 'n:c': asset.category } : {}),
            ...(families.includes('z') ? asset.parameters : {}),
          }));
        return { status: 200, body: ['v1', ...rows] };
      }),
    )
    .on(
      'POST',
      '/tandem/v1/modeldata/:modelId/mutate',
      authed((request) => {
        const facility = modelFacility(request.params.modelId);
        const checked = facilityOf(facility?.id);
        if (!('id' in checked)) return checked;
        if (checked.users[SUBJECT] !== 'ReadWrite') return { status: 403, body: { message: 'Forbidden' } };
        const body = (request.body ?? {}) as { keys?: unknown; muts?: unknown };
        const keys = Array.isArray(body.keys) ? body.keys : [];
        const muts = Array.isArray(body.muts) ? (body.muts as unknown[][]) : [];
        if (keys.length !== muts.length || keys.length === 0)
          return { status: 400, body: { message: 'keys and muts must pair up' } };
        for (const [index, key] of keys.entries()) {
          const asset = assets.get(`${request.params.modelId}/${String(key)}`);
          const [op, family, column, value] = muts[index] ?? [];
          if (!asset || op !== 'i' || family !== 'z' || typeof column !== 'string')
            return { status: 400, body: { message: 'invalid mutation' } };
          asset.parameters[`z:${column}`] = String(value);
        }
        return { status: 200, body: {} };
      }),
    )
    .on('GET', '/authentication/v2/authorize', (request) => {
      if (request.query.get('response_type') !== 'code') return { status: 400, body: 'unsupported_response_type' };
      const scopes = (request.query.get('scope') ?? '').split(' ').filter(Boolean);
      return consentRedirect(authority, request, { scopes, subject: SUBJECT, pkce: 'required', state: 'when-sent' });
    })
    .on('POST', '/authentication/v2/token', (request) => {
      const result = redeemGrant(authority, apsClient(request), bodyFields(request));
      return result
        ? tokenAnswer(result, { grantErrorStatus: 400 })
        : { status: 400, body: { error: 'unsupported_grant_type' } };
    })
    .on('POST', '/authentication/v2/revoke', (request) => {
      const client = apsClient(request);
      if (client.clientId !== options.clientId || client.clientSecret !== options.clientSecret)
        return { status: 401, body: { error: 'invalid_client' } };
      const grant = authority.grantOf(String((request.body as Json | undefined)?.token ?? ''));
      if (grant && grant.clientId === options.clientId && !authority.isRevoked(grant.grantId)) {
        authority.revokeGrant(grant.grantId);
        revoked += 1;
      }
      return { status: 200 };
    })
    .on(
      'GET',
      '/project/v1/hubs',
      authed(() => ({
        status: 200,
        body: {
          jsonapi: { version: '1.0' },
          data: [...hubs].map(([id, name]) => ({
            type: 'hubs',
            id,
            attributes: { name, region: 'US', extension: { type: 'hubs:autodesk.bim360:Account' } },
          })),
        },
      })),
    )
    .on(
      'GET',
      '/project/v1/hubs/:hubId/projects',
      authed((request) => {
        if (!hubs.has(request.params.hubId!)) return apsError(404, 'Hub not found');
        const wanted = request.query.getAll('filter[id]').flatMap((value) => value.split(','));
        const all = [...projects.values()]
          .filter((p) => p.hubId === request.params.hubId && (wanted.length === 0 || wanted.includes(p.id)))
          .map(projectJson);
        return pageOf(request, all);
      }),
    )
    .on(
      'GET',
      '/project/v1/hubs/:hubId/projects/:projectId',
      authed((request) => {
        const project = projectOf(request.params.projectId);
        if (!project || project.hubId !== request.params.hubId) return apsError(404, 'Project not found');
        return { status: 200, body: { jsonapi: { version: '1.0' }, data: projectJson(project) } };
      }),
    )
    .on(
      'GET',
      '/project/v1/hubs/:hubId/projects/:projectId/topFolders',
      authed((request) => {
        const project = projectOf(request.params.projectId);
        if (!project || project.hubId !== request.params.hubId) return apsError(404, 'Project not found');
        return {
          status: 200,
          body: { jsonapi: { version: '1.0' }, data: project.topFolders.map((id) => entryJson(entries.get(id)!)) },
        };
      }),
    )
    .on(
      'GET',
      '/data/v1/projects/:projectId/folders/:folderId/contents',
      authed((request) => {
        const project = projectOf(request.params.projectId);
        const folder = entries.get(request.params.folderId!);
        if (!project) return apsError(403, 'You do not have access to this project');
        if (!folder || folder.projectId !== project.id || folder.type !== 'folders')
          return apsError(404, 'Folder not found');
        const children = [...entries.values()].filter((entry) => entry.parentId === folder.id).map(entryJson);
        return pageOf(request, children);
      }),
    )
    .on(
      'GET',
      '/construction/issues/v1/projects/:projectId/issues',
      authed((request) => {
        const project = projectOf(request.params.projectId);
        if (!project) return apsError(403, 'You do not have access to this project');
        const limit = Number(request.query.get('limit') ?? 100);
        const offset = Number(request.query.get('offset') ?? 0);
        const range = parseRange(request.query.get('filter[updatedAt]'));
        if (range === 'invalid' || !(limit >= 1 && limit <= 200) || !(offset >= 0))
          return { status: 400, body: { title: 'Invalid filter or paging', detail: 'limit 1-200, offset >= 0' } };
        const all = [...issues.values()]
          .filter((issue) => issue.projectId === project.id)
          .filter((issue) => !range || (issue.updatedAt >= range.from && issue.updatedAt <= range.to))
          .sort((a, b) => a.displayId - b.displayId);
        return {
          status: 200,
          body: {
            pagination: { limit, offset, totalResults: all.length },
            results: all.slice(offset, offset + limit).map(issueJson),
          },
        };
      }),
    )
    .on(
      'POST',
      '/construction/issues/v1/projects/:projectId/issues',
      authed((request) => {
        const project = projectOf(request.params.projectId);
        if (!project) return apsError(403, 'You do not have access to this project');
        const body = (request.body ?? {}) as Json;
        if (typeof body.title !== 'string' || typeof body.issueSubtypeId !== 'string' || body.status !== 'open')
          return { status: 400, body: { title: 'title, issueSubtypeId and status are required' } };
        const issue = control.addIssue(project.id, body.title);
        issue.issueSubtypeId = body.issueSubtypeId;
        return { status: 201, body: issueJson(issue) };
      }),
    )
    .on(
      'POST',
      '/construction/rfis/v3/projects/:projectId/rfis',
      authed((request) => {
        const project = projectOf(request.params.projectId);
        if (!project) return apsError(403, 'You do not have access to this project');
        const body = (request.body ?? {}) as Json;
        if (typeof body.title !== 'string' || typeof body.question !== 'string')
          return { status: 400, body: { title: 'title and question are required' } };
        const rfi = { id: crypto.randomUUID(), projectId: project.id, title: body.title, status: 'draft' };
        rfis.push(rfi);
        return { status: 201, body: { id: rfi.id, title: rfi.title, status: rfi.status } };
      }),
    )
    .on(
      'POST',
      hookPath,
      authed((request, grant) => {
        const body = (request.body ?? {}) as {
          callbackUrl?: unknown;
          scope?: { folder?: unknown };
          hookAttribute?: unknown;
        };
        const folder = entries.get(String(body.scope?.folder ?? ''));
        if (typeof body.callbackUrl !== 'string' || !folder || folder.type !== 'folders')
          return { status: 400, body: { code: 'BAD_INPUT', detail: ['callbackUrl and scope.folder are required'] } };
        const duplicate = [...hooks.values()].some(
          (hook) =>
            hook.event === request.params.event && hook.folder === folder.id && hook.callbackUrl === body.callbackUrl,
        );
        if (duplicate) return { status: 409, body: { code: 'CONFLICT_ERROR', detail: ['Failed to create a hook'] } };
        const hookId = crypto.randomUUID();
        hooks.set(hookId, {
          hookId,
          event: request.params.event!,
          callbackUrl: body.callbackUrl,
          folder: folder.id,
          hookAttribute: body.hookAttribute,
          subject: grant.subject,
        });
        return {
          status: 201,
          headers: { location: `/webhooks/v1/systems/data/events/${request.params.event}/hooks/${hookId}` },
        };
      }),
    )
    .on(
      'PATCH',
      `${hookPath}/:hookId`,
      authed((request, grant) => {
        const hook = hookOf(request, grant);
        if (!hook) return { status: 404, body: { code: 'NOT_FOUND', detail: ['Hook not found'] } };
        const token = (request.body as { token?: unknown } | undefined)?.token;
        if (token !== undefined && (typeof token !== 'string' || token.length < 16 || token.length > 128))
          return { status: 400, body: { code: 'BAD_INPUT', detail: ['token must be 16 to 128 characters'] } };
        if (typeof token === 'string') hook.token = token;
        return { status: 200 };
      }),
    )
    .on(
      'DELETE',
      `${hookPath}/:hookId`,
      authed((request, grant) => {
        const hook = hookOf(request, grant);
        if (!hook) return { status: 404, body: { code: 'NOT_FOUND', detail: ['Hook not found'] } };
        hooks.delete(hook.hookId);
        return { status: 204 };
      }),
    )
    .on(
      'GET',
      '/webhooks/v1/hooks',
      authed((request, grant) => {
        // The hooks visible to the token's user, HOOKS_PAGE_SIZE at a time, continued with `pageState`.
        const visible = [...hooks.values()].filter((hook) => hook.subject === grant.subject);
        const start = Number(Buffer.from(request.query.get('pageState') ?? '', 'base64url').toString() || 0);
        const page = visible.slice(start, start + HOOKS_PAGE_SIZE);
        const next = start + HOOKS_PAGE_SIZE < visible.length;
        return {
          status: 200,
          body: {
            links: {
              next: next
                ? `/webhooks/v1/hooks?pageState=${Buffer.from(String(start + HOOKS_PAGE_SIZE)).toString('base64url')}`
                : null,
            },
            data: page.map((hook) => ({
              hookId: hook.hookId,
              event: hook.event,
              system: 'data',
              callbackUrl: hook.callbackUrl,
              scope: { folder: hook.folder },
              status: 'active',
            })),
          },
        };
      }),
    );

  const control: AutodeskEmulatorControl = {
    clock,
    requests: [],
    addHub(name) {
      const id = `b.${crypto.randomUUID()}`;
      hubs.set(id, name);
      return id;
    },
    removeHub(id) {
      hubs.delete(id);
    },
    addProject(hubId, name) {
      const project: ProjectState = { id: `b.${crypto.randomUUID()}`, hubId, name, topFolders: [] };
      projects.set(project.id, project);
      for (const folderName of ['Project Files', 'Plans']) {
        const folder = control.addFolder(project.id, '', folderName);
        project.topFolders.push(folder.id);
      }
      return project;
    },
    addFolder(projectId, parentId, name) {
      const folder: FolderEntry = {
        id: urn('fs.folder'),
        projectId,
        parentId: parentId || null,
        type: 'folders',
        name,
        extensionType: 'folders:autodesk.bim360:Folder',
        modifiedAt: now(),
      };
      entries.set(folder.id, folder);
      return folder;
    },
    async addDocument(projectId, folderId, name, extensionType = 'items:autodesk.bim360:File') {
      const item: FolderEntry = {
        id: urn('dm.lineage'),
        projectId,
        parentId: folderId,
        type: 'items',
        name,
        extensionType,
        modifiedAt: now(),
      };
      entries.set(item.id, item);
      await deliver(item, 'dm.version.added');
      return item;
    },
    async updateDocument(id, name) {
      const item = entries.get(id);
      if (!item || item.type !== 'items') throw new Error(`emulator has no document ${id}`);
      Object.assign(item, { modifiedAt: now(), ...(name ? { name } : {}) });
      return deliver(item, 'dm.version.modified');
    },
    entry: (id) => entries.get(id),
    addIssue(projectId, title) {
      const issue: IssueState = {
        id: crypto.randomUUID(),
        projectId,
        displayId: issues.size + 1,
        title,
        status: 'open',
        issueSubtypeId: 'subtype-defect',
        createdAt: now(),
        updatedAt: now(),
      };
      issues.set(issue.id, issue);
      return issue;
    },
    updateIssue(id, fields) {
      const issue = issues.get(id);
      if (!issue) throw new Error(`emulator has no issue ${id}`);
      return Object.assign(issue, fields, { updatedAt: now() });
    },
    issues: () => [...issues.values()],
    addFacility(name, facilityOptions = {}) {
      const facility: FacilityState = {
        id: `urn:adsk.dtt:${crypto.randomBytes(12).toString('base64url')}`,
        name,
        models: [`urn:adsk.dtm:${crypto.randomBytes(12).toString('base64url')}`],
        users: {
          ...(facilityOptions.member === false ? {} : { [SUBJECT]: 'ReadWrite' }),
          ...(facilityOptions.service ? { [options.clientId]: 'ReadWrite' } : {}),
        },
      };
      facilities.set(facility.id, facility);
      return facility;
    },
    addAsset(facilityId, name, parameters = {}) {
      const facility = facilities.get(facilityId);
      if (!facility) throw new Error(`emulator has no facility ${facilityId}`);
      const asset: AssetState = {
        key: crypto.randomBytes(8).toString('base64url'),
        modelId: facility.models[0]!,
        name,
        category: 'Mechanical Equipment',
        parameters: { ...parameters },
      };
      assets.set(`${asset.modelId}/${asset.key}`, asset);
      return asset;
    },
    asset: (modelId, key) => assets.get(`${modelId}/${key}`),
    rfis: () => rfis,
    hooks: () => [...hooks.values()],
    deliveries: () => deliveries,
    startStorm(count, retryAfterSeconds = 7) {
      storm.start(count, tooManyRequests(retryAfterSeconds, {}, { developerMessage: 'Too many requests' }));
    },
    revokeConsent() {
      authority.revokeSubject(options.clientId, SUBJECT);
    },
    revokedGrants: () => revoked,
  };

  const server = await startEmulatorServer({ router });
  baseUrl = server.url;
  control.requests = server.requests;
  return { url: server.url, stop: server.stop, control };
}
