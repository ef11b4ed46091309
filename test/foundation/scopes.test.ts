/**
 * T1 written once (lib/scopes.ts): the rule the API, the connect workflow and the connectors share.
 * The callers' own tests prove each maps it to its error; these prove the rule itself.
 */
import {
  consentedScopes,
  requestedScopeViolations,
  scopesBeyondRequest,
  scopesNoLongerConsented,
  scopesOutside,
} from '../../lib/scopes';

const matrix = { required: ['repo:read', 'issues:read'], optional: ['issues:write', 'pulls:read'] };

describe('least-privilege scope rule', () => {
  test('T1: the required scopes plus any chosen optional ones are a valid request, in any order', () => {
    expect(requestedScopeViolations(['repo:read', 'issues:read'], matrix)).toBeUndefined();
    expect(requestedScopeViolations(['pulls:read', 'issues:read', 'repo:read'], matrix)).toBeUndefined();
    expect(requestedScopeViolations([...matrix.required, ...matrix.optional], matrix)).toBeUndefined();
  });

  test('T1: a scope outside required ∪ optional is named with its position in the request', () => {
    expect(requestedScopeViolations(['repo:read', 'admin:org', 'issues:read', 'repo:write'], matrix)).toEqual({
      outsideMatrix: [
        { scope: 'admin:org', index: 1 },
        { scope: 'repo:write', index: 3 },
      ],
      missingRequired: [],
    });
  });

  test('T1: a request without every required scope is refused, naming what is missing', () => {
    expect(requestedScopeViolations(['issues:write'], matrix)).toEqual({
      outsideMatrix: [],
      missingRequired: ['repo:read', 'issues:read'],
    });
    expect(requestedScopeViolations([], { required: ['Sites.Selected'], optional: [] })).toEqual({
      outsideMatrix: [],
      missingRequired: ['Sites.Selected'],
    });
  });

  test('T1: both faults are reported together; scope names are compared exactly (no case folding, no prefixes)', () => {
    expect(requestedScopeViolations(['Repo:Read', 'issues:read', 'issues'], matrix)).toEqual({
      outsideMatrix: [
        { scope: 'Repo:Read', index: 0 },
        { scope: 'issues', index: 2 },
      ],
      missingRequired: ['repo:read'],
    });
  });

  test('T1: a grant broader than requested names every extra scope; an equal or narrower grant has none', () => {
    const requested = ['repo:read', 'issues:read'];
    expect(scopesBeyondRequest(requested, ['issues:read', 'repo:read'])).toEqual([]);
    expect(scopesBeyondRequest(requested, ['repo:read'])).toEqual([]);
    expect(scopesBeyondRequest(requested, [])).toEqual([]);
    expect(scopesBeyondRequest(requested, ['repo:read', 'Files.Read.All', 'issues:read', 'repo:write'])).toEqual([
      'Files.Read.All',
      'repo:write',
    ]);
  });

  test('T1 T17: narrowing keeps to the current set; anything else is placed for the error', () => {
    expect(scopesOutside(['repo:read'], ['repo:read', 'issues:read'])).toEqual([]);
    expect(scopesOutside(['repo:read', 'issues:write'], ['repo:read', 'issues:read'])).toEqual([
      { scope: 'issues:write', index: 1 },
    ]);
  });

  test('T17: a call naming a scope the consent no longer holds is caught, protocol scopes and "none" never are', () => {
    const consented = consentedScopes(['Files.Read', 'Calendars.Read'], ['Files.Read', 'Calendars.Read', 'Mail.Send']);
    expect(scopesNoLongerConsented('Mail.Send', consented)).toEqual(['Mail.Send']);
    expect(scopesNoLongerConsented('Files.Read Mail.Send', consented)).toEqual(['Mail.Send']);
    expect(scopesNoLongerConsented('Files.Read', consented)).toEqual([]);
    expect(scopesNoLongerConsented('offline_access', consented)).toEqual([]);
    expect(scopesNoLongerConsented('none', consented)).toEqual([]);
    // Before a grant exists the request is the consent.
    expect(consentedScopes([], ['repo:read'])).toEqual(['repo:read']);
  });
});
