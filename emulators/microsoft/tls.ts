/**
 * A throwaway certificate authority and a 127.0.0.1/localhost server certificate, made at test time.
 * The Graph SDK only sends the bearer token over https (its auth middleware checks the scheme), so
 * the emulator serves TLS and the client trusts exactly this CA: verification stays on.
 * Generic: belongs in `emulators/shared/` once the shared kit has a TLS helper.
 */
import { generate } from 'selfsigned';

export interface TestTls {
  /** PEM of the CA the client trusts. */
  caCert: string;
  key: string;
  cert: string;
}

/** One day: certificates only outlive the test run that made them. */
const VALIDITY_MS = 24 * 60 * 60 * 1000;

export async function createTestTls(): Promise<TestTls> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + VALIDITY_MS);
  const ca = await generate([{ name: 'commonName', value: 'TrackProject emulator test CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { caCert: ca.cert, key: server.private, cert: server.cert };
}
