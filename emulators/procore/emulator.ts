/**
 * Procore emulator: the authorization server (login.procore.com) and the REST API (api.procore.com)
 * in one server, following the contracts our connector relies on —
 * - `/oauth/authorize` (code grant, exact redirect URI, no PKCE) and a JSON `/oauth/token` with
 *   5,400 s access tokens and single-use refresh tokens: a refresh token presented twice is
 *   `invalid_grant` (and, like a stolen token, ends the grant); `/oauth/revoke` revokes the access
 *   and the refresh token of the grant (RFC 7009: 200 whatever the token);
 * - `/rest/v1.0/…` answering 401 for expired or revoked tokens, 400 without `Procore-Company-Id`,
 *   403 for a company or project the user cannot see; lists paged with `page`/`per_page` and the
 *   `Total`, `Per-Page` and `Link` headers, filtered with `filters[updated_at]=<from>...<to>`;
 * - `X-Rate-Limit-Limit/Remaining/Reset` on every API answer (hourly window per token's grant),
 *   429 with Retry-After when the window is spent, and 10-second spike storms on demand;
 * - webhooks: hooks (`destination_url`, `destination_headers`, changed in place by PATCH) and triggers per project, deliveries
 *   POSTed with the hook's destination headers verbatim and no signature.
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

export interface ProcoreEmulatorOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  clock?: EmulatorClock;
  /** Requests per hour per grant (Procore's default: 3,600). */
  hourlyLimit?: number;
}

const ACCESS_TOKEN_TTL_MS = 5_400_000;
const REFRESH_TOKEN_TTL_MS = 365 * 24 * 60 * 60_000;
const HOUR_MS = 60 * 60_000;
const SPIKE_WINDOW_S = 10;
const DEFAULT_PER_PAGE = 100;
const MAX_PER_PAGE = 100;
const API = '/rest/v1.0';
const SUBJECT = 'procore-user-1';

export type ListResource = 'rfis' | 'drawings' | 'notes_logs';

export interface ProjectState {
  id: number;
  companyId: number;
  name: string;
  updatedAt: number;
}

export interface ItemState {
  id: number;
  projectId: number;
  resource: ListResource;
  fields: Json;
  createdAt: number;
  updatedAt: number;
}

export interface HookState {
  id: number;
  projectId: number;
  destinationUrl: string;
  destinationHeaders: Record<string, string>;
  triggers: Array<{ id: number; resourceName: string; eventType: string }>;
  grantId: string;
}

export interface ProcoreDeliveryRecord {
  url: string;
  body: string;
  headers: Record<string, string>;
  status: number;
}

export interface ProcoreEmulatorControl {
  clock: EmulatorClock;
  requests: LoggedRequest[];
  companyId: number;
  addProject(name: string): ProjectState;
  /** Another company the user belongs to (a grant then reaches two companies). */
  addCompany(name: string): number;
  removeCompany(id: number): void;
  addItem(projectId: number, resource: ListResource, fields: Json): ItemState;
  updateItem(id: number, fields: Json): ItemState;
  /** Removes an item and delivers the `delete` event to the project's hooks; returns the receivers' statuses. */
  deleteItem(id: number): Promise<number[]>;
  item(id: number): ItemState | undefined;
  /** Delivers an event on an item to every hook of its project with a matching trigger. */
  deliver(id: number, eventType: 'create' | 'update' | 'delete'): Promise<number[]>;
  hooks(): HookState[];
  deliveries(): ProcoreDeliveryRecord[];
  /** The next `count` API requests get the 10-second spike 429. */
  startSpike(count: number): void;
  /** Replaces the hourly window's size (requests per hour per grant). */
  setHourlyLimit(limit: number): void;
  /** The user removes the app from their Procore account: every grant of ours ends. */
  revokeConsent(): void;
  /** The grants revoked at `/oauth/revoke` so far. */
  revokedTokens(): number;
}

export interface ProcoreEmulator {
  url: string;
  stop(): Promise<void>;
  control: ProcoreEmulatorControl;
}

const RESOURCE_NAMES: Record<ListResource, string> = { rfis: 'RFIs', drawings: 'Drawings', notes_logs: 'Notes Logs' };

/** Procore's ISO 8601 range: `<from>...<to>`, both inclusive. */
function parseRange(value: string | null): { from: number; to: number } | 'invalid' | undefined {
  if (value === null) return undefined;
  const [from, to, ...rest] = value.split('...');
  const range = { from: Date.parse(from ?? ''), to: Date.parse(to ?? '') };
  return rest.length > 0 || !Number.isFinite(range.from) || !Number.isFinite(range.to) ? 'invalid' : range;
}

export async function startProcoreEmulator(options: ProcoreEmulatorOptions): Promise<ProcoreEmulator> {
  const clock = options.clock ?? createEmulatorClock();
  const now = () => clock.now();
  // Refresh tokens are single-use: no reuse is ever tolerated (a negative grace).
  const authority = createAppAuthority(options, {
    clock,
    accessTokenTtlMs: ACCESS_TOKEN_TTL_MS,
    refreshTokenTtlMs: REFRESH_TOKEN_TTL_MS,
    refreshReuseGraceMs: -1,
  });
  let nextId = 5000;
  const companies = new Map<number, string>();
  const companyId = nextId++;
  companies.set(companyId, 'Acme Construction');
  const projects = new Map<number, ProjectState>();
  const items = new Map<number, ItemState>();
  const hooks = new Map<number, HookState>();
  const deliveries: ProcoreDeliveryRecord[] = [];
  const windows = new Map<string, { used: number; resetAt: number }>();
  const grantsByAccessToken = new Map<string, OAuthGrant>();
  const storm = createRateStorm();
  let hourlyLimit = options.hourlyLimit ?? 3600;
  let revoked = 0;
  let baseUrl = '';

  const error = (status: number, message: string): EmulatorResponse => ({ status, body: { errors: message } });

  /** The token endpoint's answer; an access token's grant is kept for `/oauth/revoke`. */
  function tokenEndpoint(request: EmulatorRequest): EmulatorResponse {
    const client = clientCredentials(request, { basic: false, secretInBody: true });
    const result = redeemGrant(authority, client, bodyFields(request));
    if (!result) return { status: 400, body: { error: 'unsupported_grant_type' } };
    if (result.ok) grantsByAccessToken.set(result.value.accessToken, result.value.grant);
    return tokenAnswer(result, { grantErrorStatus: 400, extra: () => ({ created_at: Math.floor(now() / 1000) }) });
  }

  /** The hourly window of a grant: every API answer carries it; a spent one is a 429 until its reset. */
  function rateHeaders(grantId: string): { headers: Record<string, string>; spent: boolean } {
    let window = windows.get(grantId);
    if (!window || window.resetAt <= now()) windows.set(grantId, (window = { used: 0, resetAt: now() + HOUR_MS }));
    const spent = window.used >= hourlyLimit;
    if (!spent) window.used += 1;
    const resetSeconds = Math.ceil(window.resetAt / 1000);
    return {
      spent,
      headers: {
        'x-rate-limit-limit': String(hourlyLimit),
        'x-rate-limit-remaining': String(Math.max(0, hourlyLimit - window.used)),
        'x-rate-limit-reset': String(resetSeconds),
      },
    };
  }

  /** Authenticates an API call and applies the company header and rate window. */
  type Handler = (request: EmulatorRequest, grant: OAuthGrant) => EmulatorResponse | Promise<EmulatorResponse>;
  const authed =
    (handler: Handler, needsCompany = true) =>
    async (request: EmulatorRequest): Promise<EmulatorResponse> => {
      const grant = bearerGrant(authority, request);
      if (!grant)
        return { status: 401, body: { error: 'invalid_token', error_description: 'The access token is invalid' } };
      const spike = storm.intercept();
      if (spike) return spike;
      const rate = rateHeaders(grant.grantId);
      if (rate.spent) {
        const retryAfter = Number(rate.headers['x-rate-limit-reset']) - Math.floor(now() / 1000);
        return tooManyRequests(Math.max(1, retryAfter), rate.headers, { errors: 'Rate limit exceeded' });
      }
      const company = Number(request.headers['procore-company-id']);
      if (needsCompany && !request.headers['procore-company-id'])
        return { ...error(400, 'Procore-Company-Id header is required'), headers: rate.headers };
      if (needsCompany && !companies.has(company))
        return { ...error(403, 'You do not have access to this company'), headers: rate.headers };
      const answer = await handler(request, grant);
      return { ...answer, headers: { ...rate.headers, ...answer.headers } };
    };

  function projectOf(request: EmulatorRequest, raw: string | undefined): ProjectState | EmulatorResponse {
    const project = projects.get(Number(raw));
    if (!project || project.companyId !== Number(request.headers['procore-company-id']))
      return error(404, 'Project not found');
    return project;
  }

  function paged(request: EmulatorRequest, all: Json[]): EmulatorResponse {
    const perPage = Math.min(MAX_PER_PAGE, Math.max(1, Number(request.query.get('per_page') ?? DEFAULT_PER_PAGE)));
    const page = Math.max(1, Number(request.query.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (n: number) => {
      const url = new URL(`${baseUrl}${request.path}`);
      for (const [key, value] of request.query) url.searchParams.set(key, value);
      url.searchParams.set('page', String(n));
      url.searchParams.set('per_page', String(perPage));
      return url.toString();
    };
    const rels = [
      ...(page < last ? [`<${link(page + 1)}>; rel="next"`] : []),
      ...(page > 1 ? [`<${link(page - 1)}>; rel="prev"`] : []),
      `<${link(1)}>; rel="first"`,
      `<${link(last)}>; rel="last"`,
    ];
    return {
      status: 200,
      headers: { total: String(all.length), 'per-page': String(perPage), link: rels.join(', ') },
      body: all.slice((page - 1) * perPage, page * perPage),
    };
  }

  const iso = (ms: number) => new Date(ms).toISOString();
  const itemJson = (item: ItemState): Json => ({
    id: item.id,
    ...item.fields,
    created_at: iso(item.createdAt),
    updated_at: iso(item.updatedAt),
    created_by: { id: 77, login: 'site.engineer@example.test', name: 'Site Engineer' },
  });

  const list = (resource: ListResource) =>
    authed((request) => {
      const project = projectOf(request, request.params.project_id);
      if (!('id' in project)) return project;
      const range = parseRange(request.query.get('filters[updated_at]'));
      if (range === 'invalid') return error(400, 'filters[updated_at] must be a range <from>...<to>');
      const matching = [...items.values()]
        .filter((item) => item.projectId === project.id && item.resource === resource)
        .filter((item) => !range || (item.updatedAt >= range.from && item.updatedAt <= range.to))
        .sort((a, b) => a.id - b.id)
        .map(itemJson);
      return paged(request, matching);
    });

  async function deliver(item: ItemState, eventType: string): Promise<number[]> {
    const targets = [...hooks.values()].filter(
      (hook) =>
        hook.projectId === item.projectId &&
        hook.triggers.some((t) => t.resourceName === RESOURCE_NAMES[item.resource] && t.eventType === eventType),
    );
    return Promise.all(
      targets.map(async (hook) => {
        const body = JSON.stringify({
          id: nextId++,
          ulid: crypto.randomBytes(13).toString('hex').toUpperCase().slice(0, 26),
          timestamp: iso(now()),
          api_version: 'v2',
          company_id: companyId,
          project_id: item.projectId,
          user_id: 77,
          event_type: eventType,
          resource_type: RESOURCE_NAMES[item.resource],
          resource_id: item.id,
          metadata: { source_project_id: item.projectId, source_company_id: companyId },
        });
        const headers = { ...hook.destinationHeaders, 'user-agent': 'Procore-Webhooks' };
        const status = await postDelivery(hook.destinationUrl, body, headers);
        deliveries.push({ url: hook.destinationUrl, body, headers, status });
        return status;
      }),
    );
  }

  const router = new EmulatorRouter()
    .on('GET', '/oauth/authorize', (request) => {
      if (request.query.get('response_type') !== 'code') return { status: 400, body: 'unsupported_response_type' };
      return consentRedirect(authority, request, { scopes: [], subject: SUBJECT, pkce: 'ignored', state: 'when-sent' });
    })
    .on('POST', '/oauth/token', tokenEndpoint)
    .on('POST', '/oauth/revoke', (request) => {
      const body = (request.body ?? {}) as Record<string, string>;
      if (body.client_id !== options.clientId || body.client_secret !== options.clientSecret)
        return { status: 401, body: { error: 'invalid_client' } };
      const grant = grantsByAccessToken.get(body.token ?? '');
      // Access and refresh token go together; an unknown token is still a 200 (RFC 7009).
      if (grant && authority.validateAccessToken(body.token!)) {
        authority.revokeGrant(grant.grantId);
        revoked += 1;
      }
      return { status: 200, body: {} };
    })
    .on(
      'GET',
      `${API}/companies`,
      authed(
        (request) =>
          paged(
            request,
            [...companies].map(([id, name]) => ({ id, name, is_active: true })),
          ),
        false,
      ),
    )
    .on(
      'GET',
      `${API}/projects`,
      authed((request) => {
        const company = Number(request.query.get('company_id'));
        if (!companies.has(company)) return error(400, 'company_id is required');
        const all = [...projects.values()].filter((project) => project.companyId === company);
        return paged(
          request,
          all.map((project) => ({ id: project.id, name: project.name, active: true })),
        );
      }),
    )
    .on(
      'GET',
      `${API}/projects/:project_id`,
      authed((request) => {
        const project = projectOf(request, request.params.project_id);
        if (!('id' in project)) return project;
        if (Number(request.query.get('company_id')) !== project.companyId) return error(400, 'company_id is required');
        return {
          status: 200,
          body: {
            id: project.id,
            name: project.name,
            display_name: project.name,
            project_number: `P-${project.id}`,
            active: true,
            company: { id: project.companyId, name: companies.get(project.companyId) },
            created_at: iso(project.updatedAt),
            updated_at: iso(project.updatedAt),
          },
        };
      }),
    )
    .on('GET', `${API}/projects/:project_id/rfis`, list('rfis'))
    .on('GET', `${API}/projects/:project_id/drawings`, list('drawings'))
    .on('GET', `${API}/projects/:project_id/daily_logs/notes_logs`, list('notes_logs'))
    .on(
      'PATCH',
      `${API}/projects/:project_id/rfis/:id`,
      authed((request) => {
        const project = projectOf(request, request.params.project_id);
        if (!('id' in project)) return project;
        const item = items.get(Number(request.params.id));
        if (!item || item.projectId !== project.id || item.resource !== 'rfis') return error(404, 'RFI not found');
        const status = ((request.body ?? {}) as { rfi?: { status?: unknown } }).rfi?.status;
        if (status !== 'open' && status !== 'closed' && status !== 'draft')
          return error(422, 'status is not included in the list');
        Object.assign(item, { fields: { ...item.fields, status }, updatedAt: now() });
        return { status: 200, body: itemJson(item) };
      }),
    )
    .on(
      'POST',
      `${API}/webhooks/hooks`,
      authed((request, grant) => {
        const body = (request.body ?? {}) as {
          project_id?: number;
          hook?: { destination_url?: string; destination_headers?: Record<string, string>; api_version?: string };
        };
        const project = projectOf(request, String(body.project_id));
        if (!('id' in project)) return project;
        if (!body.hook?.destination_url) return error(422, 'destination_url is required');
        const hook: HookState = {
          id: nextId++,
          projectId: project.id,
          destinationUrl: body.hook.destination_url,
          destinationHeaders: body.hook.destination_headers ?? {},
          triggers: [],
          grantId: grant.grantId,
        };
        hooks.set(hook.id, hook);
        return {
          status: 201,
          body: {
            id: hook.id,
            owned_by_project_id: hook.projectId,
            api_version: body.hook.api_version ?? 'v2',
            destination_url: hook.destinationUrl,
          },
        };
      }),
    )
    .on(
      'GET',
      `${API}/webhooks/hooks`,
      authed((request) => {
        const project = projectOf(request, request.query.get('project_id') ?? '');
        if (!('id' in project)) return project;
        return {
          status: 200,
          body: [...hooks.values()]
            .filter((hook) => hook.projectId === project.id)
            .map((hook) => ({
              id: hook.id,
              owned_by_project_id: hook.projectId,
              destination_url: hook.destinationUrl,
            })),
        };
      }),
    )
    .on(
      'POST',
      `${API}/webhooks/hooks/:hook_id/triggers`,
      authed((request) => {
        const hook = hooks.get(Number(request.params.hook_id));
        const body = (request.body ?? {}) as {
          project_id?: number;
          trigger?: { resource_name?: string; event_type?: string };
        };
        if (!hook || hook.projectId !== body.project_id) return error(404, 'Hook not found');
        const trigger = body.trigger ?? {};
        if (!['create', 'update', 'delete'].includes(trigger.event_type ?? '') || !trigger.resource_name)
          return error(422, 'resource_name and event_type are required');
        const created = { id: nextId++, resourceName: trigger.resource_name, eventType: trigger.event_type! };
        hook.triggers.push(created);
        return {
          status: 201,
          body: { id: created.id, resource_name: created.resourceName, event_type: created.eventType },
        };
      }),
    )
    .on(
      'PATCH',
      `${API}/webhooks/hooks/:hook_id`,
      authed((request) => {
        const hook = hooks.get(Number(request.params.hook_id));
        const body = (request.body ?? {}) as {
          project_id?: number;
          hook?: { destination_url?: string; destination_headers?: Record<string, string> };
        };
        if (!hook || hook.projectId !== body.project_id) return error(404, 'Hook not found');
        if (!body.hook) return error(422, 'hook is required');
        if (body.hook.destination_url !== undefined) hook.destinationUrl = body.hook.destination_url;
        if (body.hook.destination_headers !== undefined) hook.destinationHeaders = body.hook.destination_headers;
        return {
          status: 200,
          body: { id: hook.id, owned_by_project_id: hook.projectId, destination_url: hook.destinationUrl },
        };
      }),
    )
    .on(
      'DELETE',
      `${API}/webhooks/hooks/:hook_id`,
      authed((request) => {
        const hook = hooks.get(Number(request.params.hook_id));
        if (!hook || String(hook.projectId) !== request.query.get('project_id')) return error(404, 'Hook not found');
        hooks.delete(hook.id);
        return { status: 204 };
      }),
    );

  const control: ProcoreEmulatorControl = {
    clock,
    requests: [],
    companyId,
    addProject(name) {
      const project = { id: nextId++, companyId, name, updatedAt: now() };
      projects.set(project.id, project);
      return project;
    },
    addCompany(name) {
      const id = nextId++;
      companies.set(id, name);
      return id;
    },
    removeCompany(id) {
      companies.delete(id);
    },
    addItem(projectId, resource, fields) {
      if (!projects.has(projectId)) throw new Error(`emulator has no project ${projectId}`);
      const item = { id: nextId++, projectId, resource, fields, createdAt: now(), updatedAt: now() };
      items.set(item.id, item);
      return item;
    },
    updateItem(id, fields) {
      const item = items.get(id);
      if (!item) throw new Error(`emulator has no item ${id}`);
      Object.assign(item, { fields: { ...item.fields, ...fields }, updatedAt: now() });
      return item;
    },
    async deleteItem(id) {
      const item = items.get(id);
      if (!item) throw new Error(`emulator has no item ${id}`);
      items.delete(id);
      return deliver(item, 'delete');
    },
    item: (id) => items.get(id),
    async deliver(id, eventType) {
      const item = items.get(id);
      if (!item) throw new Error(`emulator has no item ${id}`);
      return deliver(item, eventType);
    },
    hooks: () => [...hooks.values()],
    deliveries: () => deliveries,
    startSpike(count) {
      const reset = String(Math.ceil(now() / 1000) + SPIKE_WINDOW_S);
      storm.start(
        count,
        tooManyRequests(
          SPIKE_WINDOW_S,
          { 'x-rate-limit-limit': '200', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset },
          { errors: 'Rate limit exceeded' },
        ),
      );
    },
    setHourlyLimit(limit) {
      hourlyLimit = limit;
    },
    revokeConsent() {
      authority.revokeSubject(options.clientId, SUBJECT);
    },
    revokedTokens: () => revoked,
  };

  const server = await startEmulatorServer({ router });
  baseUrl = server.url;
  control.requests = server.requests;
  return { url: server.url, stop: server.stop, control };
}
