/**
 * The Helm chart (deploy/helm/trackproject-integrations), checked with no cluster: `helm lint`,
 * `helm template` for a self-hosted Temporal, Temporal Cloud with an API key and Temporal Cloud with
 * mTLS (all with an external Postgres), each piped through `kubeconform -strict` against the
 * Kubernetes schemas of KUBERNETES_VERSION (`dev/tools.ts`: tools built with Go, schemas generated
 * from the `k8s.io/kubernetes` module's OpenAPI spec). Then what matters: the probes hit the routes the
 * processes serve, the worker's termination grace covers its shutdown grace, PDBs and HPAs for both
 * roles, secrets by reference only, non-root pods, and the environment passes the service's own
 * production config validation.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { parseAllDocuments } from 'yaml';
import { buildServer } from '../../api/server';
import { ensureChartTools, KUBERNETES_VERSION, type ChartTools } from '../../dev/tools';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { startWorkerHealthServer } from '../../workers/health';
import { SHUTDOWN_FORCE_MARGIN_MS, shutdownGraceProblem, TERMINATION_MARGIN_MS } from '../../workers/shutdown';

/** The exec-form CMD of a target (`FROM … AS <target>`) in docker/Dockerfile. */
function dockerfileCommand(target: string): string[] {
  const dockerfile = fs.readFileSync(path.join(__dirname, '../../docker/Dockerfile'), 'utf8');
  const stage = dockerfile
    .split(/^FROM /m)
    .find((block) => new RegExp(`AS ${target}\\s*$`, 'm').test(block.split('\n')[0]!));
  const cmd = stage?.match(/^CMD (\[.*\])\s*$/m)?.[1];
  if (!cmd) throw new Error(`docker/Dockerfile has no exec-form CMD for target ${target}`);
  return JSON.parse(cmd) as string[];
}

const CHART = path.resolve(__dirname, '../../deploy/helm/trackproject-integrations');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered Kubernetes objects, read field by field with expectations
type Manifest = { kind: string; metadata: { name: string; labels?: Record<string, string> }; [key: string]: any };
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

const BASE = ['--set', 'secrets.existingSecret=tpi-keys', '--set', 'database.existingSecret=tpi-postgres'];
const SCENARIOS: Record<string, string[]> = {
  'self-hosted Temporal': [
    ...BASE,
    '--set',
    'temporal.address=temporal-frontend.temporal:7233',
    '--set',
    'temporal.tls=true',
  ],
  'Temporal Cloud, API key': [
    ...BASE,
    '--set',
    'temporal.address=us-east-1.aws.api.temporal.io:7233',
    '--set',
    'temporal.namespace=integrations.a1b2c',
    '--set',
    'temporal.auth=apiKey',
    '--set',
    'temporal.apiKey.existingSecret=tpi-temporal-api-key',
  ],
  'Temporal Cloud, mTLS': [
    ...BASE,
    '--set',
    'temporal.address=integrations.a1b2c.tmprl.cloud:7233',
    '--set',
    'temporal.namespace=integrations.a1b2c',
    '--set',
    'temporal.auth=mtls',
    '--set',
    'temporal.mtls.existingSecret=tpi-temporal-client-tls',
  ],
};

/** Secret values for the validation only: the chart itself never sees one. */
const SECRET_VALUES: Record<string, string> = {
  SECRETS_KEK: Buffer.alloc(32, 7).toString('base64'),
  TEMPORAL_CODEC_KEY: Buffer.alloc(32, 9).toString('base64'),
  JWT_SECRET: 'x'.repeat(40),
  DATABASE_URL: 'postgres://integrations_owner:owner-password@postgres.example.com:5432/integrations',
  DATABASE_APP_URL: 'postgres://integrations_app:app-password@postgres.example.com:5432/integrations',
  TEMPORAL_API_KEY: 'cloud-api-key',
};

let tools: ChartTools;

/** `helm template` of the chart for KUBERNETES_VERSION. */
function render(args: string[]) {
  return spawnSync(tools.helm, ['template', 'tpi', CHART, '--kube-version', KUBERNETES_VERSION.slice(1), ...args], {
    encoding: 'utf8',
  });
}

function template(args: string[]): string {
  const result = render(args);
  expect([result.status, result.stderr]).toEqual([0, '']);
  return result.stdout;
}

function kubeconform(rendered: string): { status: number | null; output: string } {
  const result = spawnSync(
    tools.kubeconform,
    [
      '-strict',
      '-summary',
      '-schema-location',
      path.join(tools.schemas, '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
      '-',
    ],
    { input: rendered, encoding: 'utf8' },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function manifests(rendered: string): Manifest[] {
  return parseAllDocuments(rendered)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

const find = (docs: Manifest[], kind: string, suffix: string) =>
  docs.find((m) => m.kind === kind && m.metadata.name.endsWith(suffix))!;
const container = (deployment: Manifest) => deployment.spec.template.spec.containers[0];

describe('Helm chart (helm lint, helm template, kubeconform -strict)', () => {
  const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpi-chart-tls-'));
  beforeAll(async () => {
    tools = await ensureChartTools();
    const pems = await generate([{ name: 'commonName', value: 'integrations-worker' }], { keySize: 2048 });
    fs.writeFileSync(path.join(tlsDir, 'tls.crt'), pems.cert);
    fs.writeFileSync(path.join(tlsDir, 'tls.key'), pems.private);
  }, 900_000);
  afterAll(() => fs.rmSync(tlsDir, { recursive: true, force: true }));

  it('helm lint passes for every Temporal set-up', () => {
    for (const args of Object.values(SCENARIOS)) {
      const result = spawnSync(tools.helm, ['lint', '--strict', CHART, ...args], { encoding: 'utf8' });
      expect([result.status, result.stdout]).toEqual([0, expect.stringContaining('0 chart(s) failed')]);
    }
  });

  it('the validator is strict: a misspelt field or a wrong type fails', () => {
    const rendered = template(SCENARIOS['self-hosted Temporal']!);
    expect(kubeconform(rendered).status).toBe(0);
    expect(kubeconform(rendered.replace('readinessProbe:', 'readinesProbe:'))).toMatchObject({
      status: 1,
      output: expect.stringContaining("additional properties 'readinesProbe' not allowed"),
    });
    expect(kubeconform(rendered.replace(/minAvailable: 1/, 'minAvailable: true')).status).toBe(1);
  });

  it('rendering without the Secrets it needs fails, naming the value', () => {
    const refusals: Array<[string[], string]> = [
      [[], 'secrets.existingSecret'],
      [['--set', 'secrets.existingSecret=tpi-keys'], 'database.existingSecret'],
      [[...BASE, '--set', 'temporal.auth=apiKey'], 'temporal.apiKey.existingSecret'],
      [[...BASE, '--set', 'temporal.auth=mtls'], 'temporal.mtls.existingSecret'],
      [[...BASE, '--set', 'temporal.auth=password'], 'temporal.auth must be none, apiKey or mtls'],
      [[...BASE, '--set', 'worker.shutdownGraceSeconds=30'], 'worker.shutdownGraceSeconds must be at least 60'],
    ];
    for (const [args, message] of refusals) {
      const result = render(args);
      expect([result.status, result.stderr]).toEqual([1, expect.stringContaining(message)]);
    }
  });

  describe.each(Object.entries(SCENARIOS))('%s', (scenario, args) => {
    let docs: Manifest[];
    beforeAll(() => {
      const rendered = template(args);
      const validation = kubeconform(rendered);
      expect([validation.status, validation.output]).toEqual([0, expect.stringContaining('Invalid: 0, Errors: 0')]);
      docs = manifests(rendered);
    });

    it('renders API and worker Deployments of the one image with their role commands, PDBs and HPAs', () => {
      const kinds = docs.map((m) => `${m.kind}/${m.metadata.name.replace('tpi-trackproject-integrations', '')}`).sort();
      expect(kinds).toEqual(
        [
          'ConfigMap/',
          'Deployment/-api',
          'Deployment/-worker',
          'HorizontalPodAutoscaler/-api',
          'HorizontalPodAutoscaler/-worker',
          'Job/-migrate',
          'PodDisruptionBudget/-api',
          'PodDisruptionBudget/-worker',
          'Service/-api',
          'ServiceAccount/',
        ].sort(),
      );
      const images = new Set(docs.filter((m) => m.spec?.template).map((m) => container(m).image));
      expect([...images]).toEqual(['registry.example.com/trackproject-integrations:0.1.0']);
      // Each role runs the CMD of its target in docker/Dockerfile (the image the chart deploys).
      expect(container(find(docs, 'Deployment', '-api')).command).toEqual(dockerfileCommand('api'));
      expect(container(find(docs, 'Deployment', '-worker')).command).toEqual(dockerfileCommand('worker'));
      expect(container(find(docs, 'Job', '-migrate')).command).toEqual(dockerfileCommand('migrate'));
      for (const role of ['-api', '-worker']) {
        const deployment = find(docs, 'Deployment', role);
        const podLabels = deployment.spec.template.metadata.labels;
        expect(find(docs, 'PodDisruptionBudget', role).spec).toMatchObject({
          minAvailable: 1,
          selector: { matchLabels: podLabels },
        });
        expect(find(docs, 'HorizontalPodAutoscaler', role).spec).toMatchObject({
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name },
          minReplicas: expect.any(Number),
        });
      }
    });

    it('probes hit the routes the API and the worker serve', async () => {
      const config = configFrom(docs, tlsDir);
      const api = container(find(docs, 'Deployment', '-api'));
      const apiPort = api.ports.find((p: { name: string }) => p.name === 'http').containerPort;
      expect(apiPort).toBe(config.api.port);
      const app = await buildServer({ logger: createLogger({ level: 'silent', name: 'test' }), readiness: [] });
      try {
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          expect(api[probe].httpGet.port).toBe('http');
          expect((await app.inject(api[probe].httpGet.path)).statusCode).toBe(200);
        }
      } finally {
        await app.close();
      }
      const worker = container(find(docs, 'Deployment', '-worker'));
      const healthPort = worker.ports.find((p: { name: string }) => p.name === 'health').containerPort;
      expect(healthPort).toBe(config.workerHealth.port);
      expect(config.workerHealth.host).toBe('0.0.0.0');
      const server = await startWorkerHealthServer({
        host: '127.0.0.1',
        port: 0,
        report: async () => ({
          status: 'ready',
          state: 'RUNNING',
          polling: { workflow: 'POLLING', activity: 'POLLING' },
          temporal: 'connected',
        }),
      });
      try {
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          expect(worker[probe].httpGet.port).toBe('health');
          const response = await fetch(`http://127.0.0.1:${server.port}${worker[probe].httpGet.path}`);
          expect(response.status).toBe(200);
        }
      } finally {
        await server.close();
      }
    });

    it("the worker's terminationGracePeriodSeconds is its shutdown grace plus a margin past the SDK's force time", () => {
      const config = configFrom(docs, tlsDir);
      const graceSeconds = config.workerShutdownGraceMs / 1000;
      expect(shutdownGraceProblem(config.workerShutdownGraceMs)).toBeUndefined();
      const pod = find(docs, 'Deployment', '-worker').spec.template.spec;
      expect(pod.terminationGracePeriodSeconds).toBe(graceSeconds + TERMINATION_MARGIN_MS / 1000);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(graceSeconds + SHUTDOWN_FORCE_MARGIN_MS / 1000);
      // A rolling update starts the new worker before draining an old one.
      expect(find(docs, 'Deployment', '-worker').spec.strategy.rollingUpdate).toEqual({
        maxUnavailable: 0,
        maxSurge: 1,
      });
    });

    it('secrets are referenced from Secrets, never inlined; pods run as non-root with a read-only root', () => {
      expect(docs.filter((m) => m.kind === 'Secret')).toEqual([]);
      const secretNames = new Set(Object.keys(SECRET_VALUES));
      for (const workload of docs.filter((m) => m.spec?.template)) {
        const pod = workload.spec.template.spec;
        const env: EnvVar[] = container(workload).env;
        for (const variable of env.filter((v) => secretNames.has(v.name))) {
          expect([variable.name, variable.value, variable.valueFrom?.secretKeyRef?.name]).toEqual([
            variable.name,
            undefined,
            expect.stringMatching(/^tpi-/),
          ]);
        }
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
        expect(container(workload).securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(pod.automountServiceAccountToken).toBe(false);
      }
      const configMap = find(docs, 'ConfigMap', 'integrations');
      for (const name of secretNames) expect(configMap.data[name]).toBeUndefined();
    });

    it("the environment passes the service's production config validation, with the Temporal set-up it names", () => {
      const config = configFrom(docs, tlsDir);
      expect(config.env).toBe('production');
      expect(new URL(config.database.appUrl!).username).toBe('integrations_app');
      if (scenario === 'self-hosted Temporal') {
        expect(config.temporal).toMatchObject({ address: 'temporal-frontend.temporal:7233', namespace: 'default' });
        expect(config.temporal.connection).toEqual({ tls: {} });
      } else if (scenario === 'Temporal Cloud, API key') {
        expect(config.temporal).toMatchObject({ namespace: 'integrations.a1b2c' });
        expect(config.temporal.connection).toEqual({ apiKey: SECRET_VALUES.TEMPORAL_API_KEY, tls: true });
      } else {
        expect(config.temporal).toMatchObject({ namespace: 'integrations.a1b2c' });
        expect(config.temporal.connection.tls).toMatchObject({
          clientCertPair: { crt: fs.readFileSync(path.join(tlsDir, 'tls.crt')) },
        });
        const volume = find(docs, 'Deployment', '-worker').spec.template.spec.volumes.find(
          (v: { name: string }) => v.name === 'temporal-tls',
        );
        expect(volume.secret.secretName).toBe('tpi-temporal-client-tls');
      }
    });
  });
});

/**
 * The config a worker pod would load: the ConfigMap, each Secret reference resolved to a sample
 * value, the mTLS mount pointed at a folder holding a real certificate.
 */
function configFrom(docs: Manifest[], tlsDir: string) {
  const configMap = find(docs, 'ConfigMap', 'integrations');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(configMap.data as Record<string, string>)) {
    env[name] = value.replace('/var/run/temporal-tls', tlsDir);
  }
  for (const variable of container(find(docs, 'Deployment', '-worker')).env as EnvVar[]) {
    env[variable.name] = variable.value ?? SECRET_VALUES[variable.name]!;
  }
  return loadConfig(env);
}
