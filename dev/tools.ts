/**
 * Finds or builds the tools the service needs locally, for `npm start`, the test suite and CI alike:
 *
 * - the Temporal CLI (dev server with the embedded UI),
 * - the time-skipping test server (Java, from Maven Central), behind an executable wrapper that
 *   `TestWorkflowEnvironment` accepts as an `existing-path` server, and
 * - `moto_server` (PyPI `moto[server]`, in a Python venv), the AWS KMS emulator the key provider
 *   tests run against.
 *
 * Search order, first hit wins:
 *   CLI:         TEMPORAL_CLI_PATH → .tools/ → shared cache → `temporal` on PATH → `go install` → SDK download
 *   test server: TEMPORAL_TEST_SERVER_PATH → .tools/ → shared cache → Maven fetch → SDK download
 *
 * The shared cache (TP_TOOLS_CACHE, default ~/.cache/trackproject-integrations) lives outside the
 * clone, so CI's fresh clones reuse earlier builds on the same machine.
 *
 * The SDK's own download only works with internet access; it is the last resort and is signalled
 * by returning `undefined` from the `find*` functions with `allowDownload` set.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../lib/config';

const execFileAsync = promisify(execFile);

/** v1.5.1 is the last CLI tag whose go.mod has no local `replace`, so `go install` works. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';
export const MOTO_VERSION = '5.2.5';

const TOOLS_DIR = path.join(REPO_ROOT, '.tools');
const CACHE_DIR = process.env.TP_TOOLS_CACHE ?? path.join(os.homedir(), '.cache', 'trackproject-integrations');

const cliDir = (root: string) => path.join(root, `temporal-cli-${TEMPORAL_CLI_VERSION}`);
const testServerDir = (root: string) => path.join(root, `temporal-test-server-${TEST_SERVER_VERSION}`);

export class ToolMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolMissingError';
  }
}

type Log = (line: string) => void;

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Copies a built tool folder into the repo's .tools (from the cache) or the cache (from .tools). */
function mirror(from: string, to: string): void {
  try {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.cpSync(from, to, { recursive: true });
  } catch {
    // The cache is an optimisation only; an unwritable home directory must not break start-up.
  }
}

function cliVersion(binary: string): string | undefined {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export async function ensureTemporalCli(log: Log = () => {}): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new ToolMissingError(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file.`);
    return fromEnv;
  }
  const local = path.join(cliDir(TOOLS_DIR), 'temporal');
  if (isExecutable(local)) return local;
  const cached = path.join(cliDir(CACHE_DIR), 'temporal');
  if (isExecutable(cached)) {
    mirror(cliDir(CACHE_DIR), cliDir(TOOLS_DIR));
    return isExecutable(local) ? local : cached;
  }
  const system = onPath('temporal');
  if (system && cliVersion(system)) return system;

  const go = onPath('go');
  if (go) {
    log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go (a few minutes the first time)…`);
    fs.mkdirSync(cliDir(TOOLS_DIR), { recursive: true });
    try {
      await execFileAsync(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
        env: { ...process.env, GOBIN: cliDir(TOOLS_DIR), CGO_ENABLED: '0' },
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      throw new ToolMissingError(
        `Building the Temporal CLI failed: ${(error as { stderr?: string }).stderr?.slice(-2000) ?? String(error)}`,
      );
    }
    mirror(cliDir(TOOLS_DIR), cliDir(CACHE_DIR));
    return local;
  }
  throw new ToolMissingError(
    [
      'The Temporal CLI (dev server) is missing and cannot be built here.',
      'Do one of:',
      `  - install Go 1.22+ and run: npm run tools   (builds temporal ${TEMPORAL_CLI_VERSION} into .tools/)`,
      '  - install the Temporal CLI (https://docs.temporal.io/cli) and put `temporal` on PATH',
      '  - set TEMPORAL_CLI_PATH to an existing `temporal` binary',
      '  - or point TEMPORAL_ADDRESS at a running Temporal server',
    ].join('\n'),
  );
}

const TEST_SERVER_POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>trackproject.tools</groupId>
  <artifactId>temporal-test-server-fetch</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

/**
 * `TestWorkflowEnvironment` runs the executable as `<path> <port> --enable-time-skipping`, the
 * same arguments the Java main class takes. `exec` keeps the JVM as the process the SDK kills.
 */
const wrapperScript = (libDir: string) => `#!/bin/sh
exec java -Xss1m -XX:+UseSerialGC -cp '${libDir}/*' io.temporal.testserver.TestServer "$@"
`;

export async function ensureTestServer(log: Log = () => {}): Promise<string> {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new ToolMissingError(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} is not an executable file.`);
    }
    return fromEnv;
  }
  const localDir = testServerDir(TOOLS_DIR);
  const local = path.join(localDir, 'test-server');
  if (isExecutable(local) && fs.existsSync(path.join(localDir, 'lib'))) return local;

  const cachedDir = testServerDir(CACHE_DIR);
  if (fs.existsSync(path.join(cachedDir, 'lib'))) {
    mirror(path.join(cachedDir, 'lib'), path.join(localDir, 'lib'));
  } else {
    const mvn = onPath('mvn');
    if (!mvn || !onPath('java')) {
      throw new ToolMissingError(
        [
          'The Temporal time-skipping test server is missing.',
          'It is fetched from Maven Central and needs Java 11+ and Maven on PATH:',
          '  - install a JDK and Maven (e.g. apt-get install default-jdk-headless maven), then run: npm run tools',
          '  - or set TEMPORAL_TEST_SERVER_PATH to an existing test server executable',
        ].join('\n'),
      );
    }
    log(`Fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central…`);
    fs.mkdirSync(localDir, { recursive: true });
    const pom = path.join(localDir, 'pom.xml');
    fs.writeFileSync(pom, TEST_SERVER_POM);
    try {
      await execFileAsync(
        mvn,
        ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${path.join(localDir, 'lib')}`],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
    } catch (error) {
      throw new ToolMissingError(
        `Fetching the test server from Maven failed: ${(error as { stdout?: string }).stdout?.slice(-2000) ?? String(error)}`,
      );
    }
    mirror(path.join(localDir, 'lib'), path.join(cachedDir, 'lib'));
  }
  fs.writeFileSync(local, wrapperScript(path.join(localDir, 'lib')), { mode: 0o755 });
  return local;
}

/**
 * `moto_server` from TP_MOTO_SERVER_PATH, else a venv in the shared cache (venvs hold absolute
 * paths, so it is not copied into .tools/), else built there with `python3 -m venv` and pip.
 */
export async function ensureMotoServer(log: Log = () => {}): Promise<string> {
  const fromEnv = process.env.TP_MOTO_SERVER_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new ToolMissingError(`TP_MOTO_SERVER_PATH=${fromEnv} is not an executable file.`);
    return fromEnv;
  }
  const venv = path.join(CACHE_DIR, `moto-${MOTO_VERSION}`);
  const server = path.join(venv, 'bin', 'moto_server');
  if (isExecutable(server)) return server;
  const python = onPath('python3');
  if (!python) {
    throw new ToolMissingError(
      [
        'moto_server (the AWS KMS emulator of the key provider tests) is missing and Python 3 is not on PATH.',
        '  - install Python 3 with venv and pip (e.g. apt-get install python3-venv), then run: npm run tools',
        `  - or set TP_MOTO_SERVER_PATH to an existing moto_server (pip install 'moto[server]==${MOTO_VERSION}')`,
      ].join('\n'),
    );
  }
  log(`Installing moto[server]==${MOTO_VERSION} from PyPI into ${venv}…`);
  try {
    await execFileAsync(python, ['-m', 'venv', venv]);
    await execFileAsync(path.join(venv, 'bin', 'pip'), ['install', '-q', `moto[server]==${MOTO_VERSION}`], {
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    fs.rmSync(venv, { recursive: true, force: true });
    throw new ToolMissingError(
      `Installing moto[server] failed: ${(error as { stderr?: string }).stderr?.slice(-2000) ?? String(error)}`,
    );
  }
  return server;
}

/** CLI entry (`npm run tools`): provisions every tool and prints where they are. */
export async function provisionAll(log: Log): Promise<{ cli: string; testServer: string; motoServer: string }> {
  const cli = await ensureTemporalCli(log);
  const testServer = await ensureTestServer(log);
  const motoServer = await ensureMotoServer(log);
  return { cli, testServer, motoServer };
}
