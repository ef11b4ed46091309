/**
 * A real AWS KMS emulator for the key provider tests: `moto_server` (PyPI moto[server], provisioned
 * by `npm run tools`) on a free port, its own process per test file. Moto implements KMS's wire
 * protocol: GenerateDataKey/Encrypt/Decrypt with EncryptionContext bound as AAD, aliases, tags,
 * key states; the AWS SDK talks to it exactly as to AWS.
 */
import { spawn } from 'node:child_process';
import { KMSClient } from '@aws-sdk/client-kms';
import { freePort, waitForPort } from '../../dev/processes';
import { ensureMotoServer } from '../../dev/tools';

export interface MotoKms {
  endpoint: string;
  region: string;
  /** A client of the emulator, with the fake credentials moto accepts. */
  client(): KMSClient;
  stop(): Promise<void>;
}

const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export async function startMotoKms(): Promise<MotoKms> {
  const binary = await ensureMotoServer((line) => process.stdout.write(`${line}\n`));
  const port = await freePort();
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  try {
    await waitForPort(port, 60_000, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`moto_server did not start: ${(error as Error).message}\n${stderr}`, { cause: error });
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    region: REGION,
    client: () => new KMSClient({ region: REGION, endpoint, credentials: CREDENTIALS }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
