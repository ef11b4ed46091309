import { Writable } from 'node:stream';
import { createLogger, scrubText } from '../../lib/logger';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'trace', name: 'test', destination }) };
}

const CANARIES = {
  accessToken: 'gho_CANARYaccessTOKEN0123456789abcdef',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ',
  email: 'canary.person@example-customer.com',
  password: 'canary-password-7f3a',
  dbPassword: 'canary-db-pass-91',
};

describe('T25: structured logs scrub secrets and personal data at source', () => {
  it('redacts secret-named fields at any depth and scrubs every string', () => {
    const { lines, logger } = capture();
    logger.info(
      { user: { email: CANARIES.email }, auth: { access_token: CANARIES.accessToken }, password: CANARIES.password },
      'connect finished',
    );
    logger.warn(
      { headers: { authorization: `Bearer ${CANARIES.jwt}` } },
      `token exchange failed for ${CANARIES.email}`,
    );
    logger.error({ err: new Error(`db down: postgres://app:${CANARIES.dbPassword}@db:5432/x`) }, 'query failed');
    logger.info(`retrying with refresh_token=${CANARIES.password}&client_id=abc`);
    const output = lines.join('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow(); // structured: one JSON object a line
    for (const canary of Object.values(CANARIES)) expect(output).not.toContain(canary);
    expect(output).toContain('connect finished');
    expect(output).toContain('client_id=abc'); // non-secret context survives
  });

  it('scrubText masks tokens, JWTs, e-mail addresses and URL passwords', () => {
    expect(scrubText(`Bearer ${CANARIES.jwt}`)).toBe('Bearer [redacted]');
    expect(scrubText(`mail ${CANARIES.email} now`)).toBe('mail [email] now');
    expect(scrubText(`postgres://u:${CANARIES.dbPassword}@h/db`)).toBe('postgres://u:[redacted]@h/db');
    expect(scrubText(CANARIES.accessToken)).toBe('[redacted]');
  });
});
