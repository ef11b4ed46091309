/**
 * Finds or builds the binaries the service needs locally, for `npm start`, the test suite and CI alike:
 *
 * - the Temporal CLI (dev server with the embedded UI),
 * - the time-skipping test server (Java, from Maven Central), behind an executable wrapper that
 *   `TestWorkflowEnvironment` accepts as an `existing-path` server, and
 * - for the Helm chart's test: `helm` and `kubeconform` (built with Go from the module proxy) and the
 *   Kubernetes JSON schemas kubeconform validates against, generated from the OpenAPI spec that the
 *   `k8s.io/kubernetes` module ships (`dev/kubeSchemas.ts`): no network beyond the module proxy.
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
import { writeKubeSchemas } from './kubeSchemas';

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

async function goInstall(go: string, pkgAtVersion: string, gobin: string): Promise<void> {
  fs.mkdirSync(gobin, { recursive: true });
  try {
    await execFileAsync(go, ['install', pkgAtVersion], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    throw new ToolMissingError(
      `Building ${pkgAtVersion} failed: ${(error as { stderr?: string }).stderr?.slice(-2000) ?? String(error)}`,
    );
  }
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
    await goInstall(go, `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`, cliDir(TOOLS_DIR));
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

/** A Go-built tool of the chart test: its binary name, `go install` package and version. */
interface GoTool {
  name: string;
  pkg: string;
  version: string;
}

export const HELM: GoTool = { name: 'helm', pkg: 'helm.sh/helm/v3/cmd/helm', version: 'v3.22.0' };
export const KUBECONFORM: GoTool = {
  name: 'kubeconform',
  pkg: 'github.com/yannh/kubeconform/cmd/kubeconform',
  version: 'v0.8.0',
};
/** The Kubernetes release whose API the chart is validated against (its module ships the OpenAPI spec). */
export const KUBERNETES_VERSION = 'v1.34.4';

const goToolDir = (root: string, tool: GoTool) => path.join(root, `${tool.name}-${tool.version}`);

/** `.tools/` → shared cache → `go install` (copied to the cache for the next clone). */
export async function ensureGoTool(tool: GoTool, log: Log = () => {}): Promise<string> {
  const local = path.join(goToolDir(TOOLS_DIR, tool), tool.name);
  if (isExecutable(local)) return local;
  const cached = path.join(goToolDir(CACHE_DIR, tool), tool.name);
  if (isExecutable(cached)) return cached;
  const go = onPath('go');
  if (!go) {
    throw new ToolMissingError(`${tool.name} is missing: install Go 1.22+ and run npm run tools (builds ${tool.pkg}).`);
  }
  log(`Building ${tool.name} ${tool.version} with Go…`);
  await goInstall(go, `${tool.pkg}@${tool.version}`, goToolDir(TOOLS_DIR, tool));
  mirror(goToolDir(TOOLS_DIR, tool), goToolDir(CACHE_DIR, tool));
  return local;
}

/**
 * The folder of kubeconform's schemas for KUBERNETES_VERSION (`-schema-location <dir>/{{ .ResourceKind }}{{ .KindSuffix }}.json`),
 * generated once from `api/openapi-spec/swagger.json` of the `k8s.io/kubernetes` module.
 */
export async function ensureKubeSchemas(log: Log = () => {}): Promise<string> {
  const dirName = `kubernetes-json-schema-${KUBERNETES_VERSION}-strict`;
  for (const root of [TOOLS_DIR, CACHE_DIR]) {
    if (fs.existsSync(path.join(root, dirName, '.complete'))) return path.join(root, dirName);
  }
  const go = onPath('go');
  if (!go) throw new ToolMissingError('The Kubernetes schemas need Go to fetch k8s.io/kubernetes: install Go 1.22+.');
  log(`Fetching k8s.io/kubernetes ${KUBERNETES_VERSION} from the Go module proxy for its OpenAPI spec…`);
  let moduleDir: string;
  try {
    const { stdout } = await execFileAsync(
      go,
      ['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`],
      {
        cwd: os.tmpdir(),
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  } catch (error) {
    throw new ToolMissingError(
      `Fetching k8s.io/kubernetes failed: ${(error as { stderr?: string }).stderr ?? String(error)}`,
    );
  }
  const out = path.join(TOOLS_DIR, dirName);
  writeKubeSchemas(path.join(moduleDir, 'api/openapi-spec/swagger.json'), out);
  fs.writeFileSync(path.join(out, '.complete'), `${KUBERNETES_VERSION}\n`);
  mirror(out, path.join(CACHE_DIR, dirName));
  return out;
}

export interface ChartTools {
  helm: string;
  kubeconform: string;
  schemas: string;
}

export async function ensureChartTools(log: Log = () => {}): Promise<ChartTools> {
  return {
    helm: await ensureGoTool(HELM, log),
    kubeconform: await ensureGoTool(KUBECONFORM, log),
    schemas: await ensureKubeSchemas(log),
  };
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

/** CLI entry (`npm run tools`): provisions every tool and prints where it is. */
export async function provisionAll(
  log: Log,
): Promise<{ cli: string; testServer: string; motoServer: string } & ChartTools> {
  const cli = await ensureTemporalCli(log);
  const testServer = await ensureTestServer(log);
  const motoServer = await ensureMotoServer(log);
  return { cli, testServer, motoServer, ...(await ensureChartTools(log)) };
}
