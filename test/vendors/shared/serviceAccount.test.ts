import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';
import { readServiceAccount } from '../../../activities/vendors/shared/serviceAccount';
import type { ConnectorContext } from '../../../activities/vendors/types';

function contextWith(accessToken: string): ConnectorContext {
  return { vendor: 'sap', credential: { accessToken, grantedScopes: [] } } as unknown as ConnectorContext;
}

describe('readServiceAccount', () => {
  it('returns the named fields of the submitted credential', () => {
    const ctx = contextWith(JSON.stringify({ username: 'svc', password: 'p4ss', note: 'ignored' }));
    expect(readServiceAccount(ctx, ['username', 'password'])).toEqual({ username: 'svc', password: 'p4ss' });
  });

  it.each([
    ['a missing field', JSON.stringify({ username: 'svc' }), 'password'],
    ['an empty field', JSON.stringify({ username: 'svc', password: '' }), 'password'],
    ['a bare key', 'not-json-secret', 'username, password'],
  ])('refuses %s, naming the field and never the value', (_case, plaintext, named) => {
    const read = () => readServiceAccount(contextWith(plaintext), ['username', 'password']);
    expect(read).toThrow(VendorError);
    try {
      read();
    } catch (error) {
      expect((error as VendorError).type).toBe(VendorFailureType.VendorRejected);
      expect((error as Error).message).toBe(`sap: service-account credential lacks ${named}`);
      expect((error as Error).message).not.toContain('secret');
    }
  });
});
