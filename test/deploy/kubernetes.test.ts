// The Kubernetes example (deploy/kubernetes/relais.yaml), checked structurally against the code:
// no cluster runs here, so each claim docs/deploy.md makes about it is read from the manifests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { configSchema, loadConfig } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: any;
}

const manifests = parseAllDocuments(read('deploy/kubernetes/relais.yaml')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS() as Manifest;
});
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const container = (deployment: string): Container => named('Deployment', deployment).spec.template.spec.containers[0];
const config = named('ConfigMap', 'relais-config').data!;
/** What the secret must hold (kubectl create secret … in the file's header), with example values. */
const SECRET = {
  MONGODB_URI: 'mongodb+srv://relais:pw@cluster0.example.mongodb.net/relais',
  LINK_SECRET: 'x'.repeat(64),
};

/** A probe's port, resolved through the container's named ports. */
const probePort = (c: Container, probe: Probe | undefined) => {
  const port = probe?.httpGet?.port;
  return typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
};

test('every manifest has apiVersion, kind and name; the kinds the example promises are there', () => {
  for (const m of manifests)
    expect(m).toMatchObject({
      apiVersion: expect.any(String),
      kind: expect.any(String),
      metadata: { name: expect.any(String) },
    });
  expect(
    byKind('Deployment')
      .map((m) => m.metadata.name)
      .sort(),
  ).toEqual(['relais-api', 'relais-worker']);
  expect(
    byKind('HorizontalPodAutoscaler')
      .map((m) => m.metadata.name)
      .sort(),
  ).toEqual(['relais-api', 'relais-worker']);
  expect(byKind('Service').map((m) => m.metadata.name)).toEqual(['relais-api']);
});

test('the ConfigMap holds only settings src/config.ts knows, and with the secret it parses', () => {
  const known = new Set(Object.keys(configSchema.shape));
  for (const key of Object.keys(config)) expect({ key, known: known.has(key) }).toEqual({ key, known: true });
  const c = loadConfig({ ...config, ...SECRET });
  expect(c).toMatchObject({ HOST: '0.0.0.0', TEMPORAL_NAMESPACE: 'relais', TEMPORAL_TASK_QUEUE: 'relais' });
  expect(new URL(c.PUBLIC_BASE_URL).pathname).toBe('/');
  // Secrets are not in the ConfigMap.
  for (const key of ['MONGODB_URI', 'LINK_SECRET', 'TEMPORAL_API_KEY', 'SENDGRID_API_KEY', 'TWILIO_AUTH_TOKEN'])
    expect(Object.keys(config)).not.toContain(key);
});

describe.each(['relais-worker', 'relais-api'])('%s', (name) => {
  const deployment = named('Deployment', name);
  const c = container(name);

  test('selector matches the pod labels; one image for both, pinned', () => {
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    expect(c.image).toBe(container('relais-api').image);
    expect(c.image).toMatch(/:\d+\.\d+\.\d+$/);
  });

  test('runs the compiled entry point the Dockerfile builds, with settings from the ConfigMap and the secret', () => {
    const entry = name === 'relais-worker' ? 'dist/src/worker.js' : 'dist/src/api/main.js';
    expect(c.command).toEqual(['node', entry]);
    expect(read('Dockerfile')).toMatch(/tsc -p \./);
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'relais-config' } }, { secretRef: { name: 'relais-secrets' } }]);
  });

  test('probes hit endpoints the process serves, on the port it listens on', () => {
    const port =
      name === 'relais-worker'
        ? loadConfig({ ...config, ...SECRET }).WORKER_HTTP_PORT
        : loadConfig({ ...config, ...SECRET }).API_PORT;
    expect(probePort(c, c.readinessProbe)).toBe(port);
    expect(probePort(c, c.livenessProbe)).toBe(port);
    const source = name === 'relais-worker' ? read('src/metrics-http.ts') : read('src/api/server.ts');
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      expect(source).toContain(`'${probe!.httpGet!.path}'`);
    }
    if (name === 'relais-api') expect(c.readinessProbe!.httpGet!.path).toBe('/readyz');
    // Prometheus scrapes /metrics: the worker's on the same port; the API's on its operations
    // port, off the public one (issue 14, finding 12), which the public port does not serve.
    const metricsPort = name === 'relais-worker' ? port : loadConfig({ ...config, ...SECRET }).API_METRICS_PORT;
    expect(deployment.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/port': String(metricsPort),
      'prometheus.io/path': '/metrics',
    });
    expect(c.ports!.map((p) => p.containerPort)).toContain(metricsPort);
    expect(read('src/metrics-http.ts')).toContain("'/metrics'");
    if (name === 'relais-api') expect(source).not.toContain("'/metrics'");
  });

  test('upgrades roll without a gap, and SIGTERM gets time to drain', () => {
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(c.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
  });
});

test('the worker scales on the task queue backlog of its own namespace and task queue', () => {
  const hpa = named('HorizontalPodAutoscaler', 'relais-worker').spec;
  expect(hpa.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'relais-worker' });
  expect(hpa.minReplicas).toBeGreaterThanOrEqual(2);
  expect(hpa.maxReplicas).toBeGreaterThan(hpa.minReplicas);
  const [metric] = hpa.metrics;
  expect(metric.type).toBe('External');
  expect(metric.external.metric.name).toMatch(/backlog/);
  expect(metric.external.metric.selector.matchLabels).toEqual({
    namespace: config.TEMPORAL_NAMESPACE,
    taskqueue: config.TEMPORAL_TASK_QUEUE,
  });
  expect(named('HorizontalPodAutoscaler', 'relais-api').spec.scaleTargetRef.name).toBe('relais-api');
});

test('the API Service targets the API pods on their HTTP port', () => {
  const service = named('Service', 'relais-api').spec;
  expect(service.selector).toEqual(named('Deployment', 'relais-api').spec.selector.matchLabels);
  expect(service.ports[0].targetPort).toBe('http');
  // The metrics port is the pod's, for Prometheus; the Service publishes only the HTTP port.
  expect(container('relais-api').ports).toEqual([
    { name: 'http', containerPort: Number(config.API_PORT) },
    { name: 'metrics', containerPort: 9465 },
  ]);
  expect(service.ports).toHaveLength(1);
});
