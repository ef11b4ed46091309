/**
 * T1, least privilege, written once: the scopes requested are the vendor matrix's required ones
 * plus chosen optional ones, never anything outside required ∪ optional; a grant broader than what
 * was requested is refused. The API, the connect workflow and the connectors all judge with these
 * functions and map the answer to their own error. Pure and free of imports, so the workflow
 * bundle can take it (deterministic, no Node built-ins).
 */

/** A vendor matrix row's scopes. */
export interface ScopeMatrix {
  readonly required: readonly string[];
  readonly optional: readonly string[];
}

/** A scope at its position in the list it came from. */
export interface PlacedScope {
  scope: string;
  index: number;
}

export interface RequestedScopeViolations {
  /** Requested scopes that are not in the matrix row, in request order. */
  outsideMatrix: PlacedScope[];
  /** Required scopes the request left out, in matrix order. */
  missingRequired: string[];
}

/** The scopes of `scopes` that `allowed` does not hold. */
export function scopesOutside(scopes: readonly string[], allowed: readonly string[]): PlacedScope[] {
  const held = new Set(allowed);
  return scopes.flatMap((scope, index) => (held.has(scope) ? [] : [{ scope, index }]));
}

/** What keeps `requested` from being required + chosen optional scopes of `matrix`; undefined when nothing does. */
export function requestedScopeViolations(
  requested: readonly string[],
  matrix: ScopeMatrix,
): RequestedScopeViolations | undefined {
  const outsideMatrix = scopesOutside(requested, [...matrix.required, ...matrix.optional]);
  const missingRequired = matrix.required.filter((scope) => !requested.includes(scope));
  return outsideMatrix.length > 0 || missingRequired.length > 0 ? { outsideMatrix, missingRequired } : undefined;
}

/** Granted scopes beyond the requested ones: a grant with any must be refused, never used. */
export function scopesBeyondRequest(requested: readonly string[], granted: readonly string[]): string[] {
  return scopesOutside(granted, requested).map(({ scope }) => scope);
}

/**
 * OAuth protocol scopes: they let us refresh a token and grant no data, so no consent narrowing
 * removes them and no call is refused for exercising them.
 */
export const PROTOCOL_SCOPES: readonly string[] = ['offline_access'];
/** What a call that reaches no vendor data exercises (a refusal recorded before any request). */
export const NO_SCOPE = 'none';

/** The scopes an integration may use now (T17): its grant, or before one exists, its request. */
export function consentedScopes(granted: readonly string[], requested: readonly string[]): string[] {
  return [...(granted.length > 0 ? granted : requested)];
}

/**
 * The scopes a call names (space-separated, as `AuditedCall.scope` carries them) that the consented
 * set no longer holds: a call with any is refused before it is made (T17).
 */
export function scopesNoLongerConsented(callScope: string, consented: readonly string[]): string[] {
  const exempt = new Set([...PROTOCOL_SCOPES, NO_SCOPE, ...consented]);
  // A permission the matrix names in words (Procore's) is one label, spaces included.
  if (exempt.has(callScope)) return [];
  return callScope.split(' ').filter((scope) => scope.length > 0 && !exempt.has(scope));
}
