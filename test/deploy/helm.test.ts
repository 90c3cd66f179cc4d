// The Helm chart, rendered offline (helm, or helm-lite; skipped with the reason when neither is there) for the default values and with every optional
// feature switched on; each rendered document validated with kubernetes-models, then the wiring
// asserted: selectors, probes, ports, the ConfigMap mount, the security context, reload strategy.
// values.yaml and a set of bad values files are checked against values.schema.json (helm-lite
// does not apply the schema; Helm does at install time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, posix } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { load } from 'js-yaml';
import { REPO } from './support/dockerfile.ts';
import { CHART, findHelmRenderer, HELM, HELM_SKIP, helmTemplate, mergeValues, notesRenderer, only, render, validateDoc, type DeploymentDoc, type K8sDoc, type ServiceDoc } from './support/helm.ts';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const valuesText = readFileSync(join(CHART, 'values.yaml'), 'utf8');
const defaults = load(valuesText) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
// Union types ("string or number" for resource quantities) are deliberate; everything else strict.
let compiled: ValidateFunction | undefined;
// Compiled on first use, so a broken schema fails the schema tests rather than the whole file.
const validateValues = Object.assign((data: unknown) => {
  compiled ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
  const ok = compiled(data);
  validateValues.errors = compiled.errors;
  return ok;
}, { errors: null as ErrorObject[] | null | undefined });
const errorsText = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const container = (d: DeploymentDoc) => d.spec.template.spec.containers[0]!;
const envOf = (d: DeploymentDoc) => Object.fromEntries((container(d).env ?? []).map((e) => [e.name, e]));
const subset = (small: Record<string, string> = {}, big: Record<string, string> = {}) => Object.entries(small).every(([k, v]) => big[k] === v);

/** What every render must satisfy, whatever the values. */
function assertCommon(docs: K8sDoc[]) {
  assert.ok(docs.length > 0, 'something rendered');
  for (const doc of docs) {
    validateDoc(doc);
    const labels = doc.metadata.labels ?? {};
    for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart']) {
      assert.ok(labels[key], `${doc.kind} ${doc.metadata.name} has label ${key}`);
    }
    for (const [key, value] of Object.entries(labels)) {
      assert.match(value, LABEL_VALUE, `${doc.kind} label ${key}=${value} is a valid label value`);
      assert.ok(value.length <= 63, `${doc.kind} label ${key} is at most 63 characters`);
    }
    assert.ok(doc.metadata.name.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(doc.metadata.name), `${doc.kind} name ${doc.metadata.name} is a valid DNS name`);
  }
  assert.equal(new Set(docs.map((d) => `${d.kind}/${d.metadata.name}`)).size, docs.length, 'no two documents share kind and name');

  const deployment = only<DeploymentDoc>(docs, 'Deployment');
  const service = only<ServiceDoc>(docs, 'Service');
  assert.match(service.metadata.name, DNS_LABEL, 'a Service name must be a DNS label');
  const podLabels = deployment.spec.template.metadata.labels ?? {};
  const selector = deployment.spec.selector.matchLabels ?? {};
  assert.ok(Object.keys(selector).length > 0 && subset(selector, podLabels), `the Deployment selector ${JSON.stringify(selector)} matches its pod labels`);
  assert.ok(!('app.kubernetes.io/version' in selector) && !('helm.sh/chart' in selector), 'the selector (immutable) carries no version');
  assert.ok(service.spec.selector && Object.keys(service.spec.selector).length > 0 && subset(service.spec.selector, podLabels), 'the Service selects the pods');

  const c = container(deployment);
  assert.equal(deployment.spec.template.spec.containers.length, 1);
  assert.equal(c.command, undefined, "the image's ENTRYPOINT (tini + node) runs unchanged");
  const http = (c.ports ?? []).find((p) => p.name === 'http');
  assert.ok(http, 'a container port named http');
  const env = envOf(deployment);
  assert.equal(env.PORT?.value, String(http.containerPort), 'the server listens on the declared container port');
  assert.equal(env.HOST?.value, '0.0.0.0', 'bound on all interfaces so probes and the Service reach it');
  for (const [probe, path] of [[c.livenessProbe, '/healthz'], [c.readinessProbe, '/readyz']] as const) {
    assert.equal(probe?.httpGet?.path, path);
    assert.ok(probe.httpGet.port === 'http' || probe.httpGet.port === http.containerPort, `probe ${path} targets the http port`);
  }
  for (const port of service.spec.ports) {
    assert.ok(port.targetPort === 'http' || port.targetPort === http.containerPort, `Service port ${port.name} targets the container's http port`);
  }

  // The config directory: a ConfigMap volume mounted whole at /config, where MOCKLLM_CONFIG points.
  const configPath = env.MOCKLLM_CONFIG?.value ?? '';
  const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === posix.dirname(configPath));
  assert.ok(mount, `a volume is mounted at ${posix.dirname(configPath)}, the directory of MOCKLLM_CONFIG=${configPath}`);
  assert.equal(mount.mountPath, '/config');
  assert.equal(mount.subPath, undefined, 'no subPath: a subPath mount never sees ConfigMap updates');
  assert.equal(mount.subPathExpr, undefined, 'no subPathExpr either');
  assert.equal(mount.readOnly, true);
  const volume = (deployment.spec.template.spec.volumes ?? []).find((v) => v.name === mount.name);
  assert.ok(volume?.configMap, 'the /config volume is a ConfigMap');
  assert.equal(volume.configMap.items, undefined, 'all keys projected (items would pin file names)');
  const renderedCm = docs.find((d) => d.kind === 'ConfigMap');
  if (renderedCm) {
    assert.equal(volume.configMap.name, renderedCm.metadata.name, 'the volume mounts the rendered ConfigMap');
    assert.ok(posix.basename(configPath) in ((renderedCm as K8sDoc & { data: Record<string, string> }).data ?? {}), 'the ConfigMap holds the file MOCKLLM_CONFIG names');
  }

  // Non-root, read-only, no privileges.
  const pod = deployment.spec.template.spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  assert.equal(sc.runAsNonRoot ?? pod.runAsNonRoot, true, 'runAsNonRoot');
  const uid = sc.runAsUser ?? pod.runAsUser;
  assert.ok(uid !== undefined && uid !== 0, 'an explicit non-zero uid');
  assert.equal(sc.readOnlyRootFilesystem, true, 'readOnlyRootFilesystem');
  assert.equal(sc.allowPrivilegeEscalation, false, 'allowPrivilegeEscalation: false');
  assert.notEqual(sc.privileged, true);
  assert.deepEqual(sc.capabilities?.drop, ['ALL'], 'all capabilities dropped');
  assert.equal(sc.capabilities?.add, undefined);
  assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, 'CPU and memory requests and a memory limit');
  return { deployment, service, container: c, env };
}

// Every optional feature, each switched on alone (and all together below).
const SCENARIOS: Record<string, Record<string, unknown>> = {
  secret: { adminToken: { value: 'test-admin-token' } },
  existingSecret: { adminToken: { existingSecret: 'team-mockllm-admin', secretKey: 'token' } },
  existingConfigMap: { config: { existingConfigMap: 'team-answers', key: 'answers.yml' } },
  ingress: { ingress: { enabled: true, className: 'nginx', annotations: { 'nginx.ingress.kubernetes.io/proxy-buffering': 'off' }, hosts: [{ host: 'mockllm.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }], tls: [{ secretName: 'mockllm-tls', hosts: ['mockllm.example.com'] }] } },
  serviceMonitor: { metrics: { serviceMonitor: { enabled: true, interval: '15s', scrapeTimeout: '5s', labels: { release: 'kube-prometheus-stack' } } } },
  rollout: { config: { reloadStrategy: 'rollout' } },
  replicas: { replicaCount: 3 },
  redis: { replicaCount: 3, redis: { enabled: true } },
  externalRedis: { redis: { existingSecret: 'team-redis', secretKey: 'url', prefix: 'ci-mock:' }, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 60 } },
  settings: {
    settings: { match: 'exact', strict: true },
    responses: { 'only question': 'only answer' },
    rules: [{ match: { contains: 'weather' }, response: 'Sunny.' }],
    defaults: { unknown_response: 'No idea.' },
    models: ['gpt-4o', { id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5' }],
    embeddings: { default_dimensions: 256, vectors: { hello: [0.6, 0.8] } },
  },
};

/** The server's own loader (imported late: src/ may be mid-edit while the chart's other tests run). */
async function serverAccepts(text: string): Promise<void> {
  const { parseConfig } = (await import('../../src/config/load.ts')) as { parseConfig: (text: string, file: string) => unknown };
  parseConfig(text, 'configmap:responses.yml');
}

test('Chart.yaml: a v2 application chart whose appVersion is package.json\'s version', () => {
  const chart = load(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  assert.equal(chart.apiVersion, 'v2');
  assert.equal(chart.name, 'mockllm');
  assert.equal(chart.type, 'application');
  assert.match(String(chart.version), /^\d+\.\d+\.\d+/);
  assert.equal(typeof chart.appVersion, 'string', 'appVersion quoted, so "1.10" stays a string');
  assert.equal(chart.appVersion, pkg.version);
});

test('values.yaml: every setting has a comment, and every setting in the schema is in values.yaml', () => {
  type Node = { properties?: Record<string, Node>; additionalProperties?: unknown; items?: Node; $ref?: string };
  const deref = (node: Node | undefined): Node | undefined => {
    if (!node?.$ref) return node;
    const path = node.$ref.replace(/^#\//, '').split('/');
    return path.reduce<unknown>((at, key) => (at as Record<string, unknown>)[key], schema) as Node;
  };
  // Children of free-form maps (responses, podAnnotations, ...) are data, not settings.
  const freeForm = (path: string[]) => {
    let node: Node | undefined = schema as Node;
    for (const key of path) {
      node = deref(node);
      if (!node) return true;
      node = key === '-' ? node.items : node.properties?.[key];
    }
    node = deref(node);
    return node === undefined || (node.properties === undefined && node.items === undefined);
  };
  const lines = valuesText.split('\n');
  const stack: { indent: number; key: string }[] = [];
  const undocumented: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)(- )?("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+):(\s|$)/.exec(line);
    if (!m) return;
    const indent = m[1]!.length + (m[2] ? 2 : 0);
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    if (m[2]) stack.push({ indent: indent - 1, key: '-' });
    const parent = stack.map((s) => s.key);
    const key = m[3]!.replace(/^["']|["']$/g, '');
    stack.push({ indent, key });
    if (parent.length > 0 && freeForm(parent)) return;
    const previous = lines[i - 1]?.trim() ?? '';
    if (!previous.startsWith('#') && !/\s#\s/.test(line)) undocumented.push(`line ${i + 1}: ${[...parent, key].join('.')}`);
  });
  assert.deepEqual(undocumented, [], 'each setting has a comment on the line above');
  for (const key of Object.keys((schema as { properties: Record<string, unknown> }).properties)) {
    if (key !== 'global') assert.ok(key in defaults, `schema property ${key} appears (documented) in values.yaml`);
  }
});

test('values.schema.json accepts values.yaml and the feature scenarios, and rejects bad values where they are wrong', () => {
  assert.ok(validateValues(defaults), errorsText(validateValues.errors));
  for (const [name, values] of Object.entries(SCENARIOS)) {
    assert.ok(validateValues(mergeValues(defaults, values)), `scenario ${name}: ${errorsText(validateValues.errors)}`);
  }
  const bad: [string, Record<string, unknown>, string][] = [
    ['replicas as a word', { replicaCount: 'two' }, '/replicaCount'],
    ['negative replicas', { replicaCount: -1 }, '/replicaCount'],
    ['a misspelt top-level key', { replicas: 2 }, '/'],
    ['an unknown reload strategy', { config: { reloadStrategy: 'restart' } }, '/config/reloadStrategy'],
    ['rollout with an existing ConfigMap', { config: { existingConfigMap: 'my-answers', reloadStrategy: 'rollout' } }, '/config/reloadStrategy'],
    ['a ConfigMap key with a slash', { config: { key: 'conf/responses.yml' } }, '/config/key'],
    ['an answer that is not a string', { responses: { 'what is 2+2?': 4 } }, '/responses/what is 2+2?'],
    ['rules as a map', { rules: { weather: 'Sunny.' } }, '/rules'],
    ['a rule without a response', { rules: [{ match: { contains: 'weather' } }] }, '/rules/0'],
    ['settings as a list', { settings: ['strict'] }, '/settings'],
    ['both a token and an existing Secret', { adminToken: { value: 's3cret', existingSecret: 'admin' } }, '/adminToken'],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, '/image/pullPolicy'],
    ['an empty image repository', { image: { repository: '' } }, '/image/repository'],
    ['an out-of-range Service port', { service: { port: 70000 } }, '/service/port'],
    ['an out-of-range container port', { containerPort: 0 }, '/containerPort'],
    ['an Ingress without hosts', { ingress: { enabled: true, hosts: [] } }, '/ingress/hosts'],
    ['an Ingress path without a leading slash', { ingress: { hosts: [{ host: 'x', paths: [{ path: 'v1', pathType: 'Prefix' }] }] } }, '/ingress/hosts/0/paths/0/path'],
    ['a probe that overrides its path', { livenessProbe: { httpGet: { path: '/' } } }, '/livenessProbe'],
    ['a scrape interval that is not a duration', { metrics: { serviceMonitor: { interval: 'often' } } }, '/metrics/serviceMonitor/interval'],
    ['extraEnv overriding PORT', { extraEnv: [{ name: 'PORT', value: '1' }] }, '/extraEnv/0/name'],
    ['an unknown log level', { logLevel: 'verbose' }, '/logLevel'],
    ['a memory limit that is not a quantity', { resources: { limits: { memory: 'lots' } } }, '/resources/limits/memory'],
  ];
  for (const [name, values, path] of bad) {
    const merged = mergeValues(defaults, values);
    assert.equal(validateValues(merged), false, `${name} is rejected`);
    const paths = (validateValues.errors ?? []).map((e) => e.instancePath || '/');
    assert.ok(paths.some((p) => p === path || p.replace(/~1/g, '/') === path), `${name}: rejected at ${path}, got ${errorsText(validateValues.errors)}`);
  }
});

test('the chart renderer is helm on PATH, else helm-lite beside the repository, else none (and the rendering tests skip)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-renderer-'));
  try {
    const bin = join(dir, 'bin');
    const lite = join(dir, 'helm-template');
    await mkdir(bin);
    await writeFile(join(bin, 'helm'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(lite, '#!/bin/sh\n', { mode: 0o755 });
    assert.deepEqual(findHelmRenderer(`${join(dir, 'empty')}${delimiter}${bin}`, lite), { command: join(bin, 'helm'), args: ['template'], label: `helm template (${join(bin, 'helm')})` });
    assert.deepEqual(findHelmRenderer(join(dir, 'empty'), lite), { command: lite, args: [], label: `helm-lite (${lite})` });
    assert.equal(findHelmRenderer(join(dir, 'empty'), join(dir, 'missing')), null);
    await chmod(join(bin, 'helm'), 0o644);
    assert.equal(findHelmRenderer(bin, join(dir, 'missing')), null, 'a helm that is not executable does not count');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  t.diagnostic(HELM ? `rendering with ${HELM.label}` : `rendering tests skipped: ${HELM_SKIP}`);
});

test('default values: Deployment, Service and ConfigMap only, valid and wired; hot reload, so no checksum annotation', { skip: HELM_SKIP }, async () => {
  const docs = await render();
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['ConfigMap', 'Deployment', 'Service']);
  const { deployment, env } = assertCommon(docs);
  assert.equal(deployment.spec.replicas, 1);
  const annotations = deployment.spec.template.metadata.annotations ?? {};
  assert.equal(annotations['checksum/config'], undefined, 'hot reload: a config change must not roll the pods');
  assert.equal(env.MOCKLLM_ADMIN_TOKEN, undefined, 'no admin token unless asked for');
  assert.equal(container(deployment).image, `mockllm:${pkg.version}`, 'the image tag defaults to appVersion');
  // The chart's default answers are the image's: config/responses.yml.
  const cm = only<K8sDoc & { data: Record<string, string> }>(docs, 'ConfigMap');
  const file = load(cm.data['responses.yml']!) as { responses: Record<string, string> };
  assert.deepEqual(file, load(readFileSync(join(REPO, 'config/responses.yml'), 'utf8')), 'the rendered config equals config/responses.yml');
  assert.equal(file.responses['what is 2+2?'], '2+2 equals 9.');
  await serverAccepts(cm.data['responses.yml']!);
});

test('adminToken.value: a Secret, fed to MOCKLLM_ADMIN_TOKEN, and a checksum so a new token rolls the pods', { skip: HELM_SKIP }, async () => {
  const docs = await render({ values: SCENARIOS.secret });
  const { deployment, env } = assertCommon(docs);
  const secret = only<K8sDoc & { data: Record<string, string>; type: string }>(docs, 'Secret');
  assert.equal(secret.type, 'Opaque');
  assert.equal(Buffer.from(secret.data['admin-token'] ?? '', 'base64').toString(), 'test-admin-token');
  assert.deepEqual(env.MOCKLLM_ADMIN_TOKEN?.valueFrom?.secretKeyRef, { name: secret.metadata.name, key: 'admin-token' });
  assert.equal(env.MOCKLLM_ADMIN_TOKEN.value, undefined, 'the token is never inlined in the pod spec');
  assert.match(deployment.spec.template.metadata.annotations?.['checksum/admin-token'] ?? '', /^[0-9a-f]{64}$/);
  assert.equal(deployment.spec.template.metadata.annotations?.['checksum/config'], undefined);
});

test('adminToken.existingSecret: no Secret rendered, the named one referenced', { skip: HELM_SKIP }, async () => {
  const docs = await render({ values: SCENARIOS.existingSecret });
  const { env } = assertCommon(docs);
  assert.equal(docs.filter((d) => d.kind === 'Secret').length, 0);
  assert.deepEqual(env.MOCKLLM_ADMIN_TOKEN?.valueFrom?.secretKeyRef, { name: 'team-mockllm-admin', key: 'token' });
});

test('config.existingConfigMap: no ConfigMap rendered, the named one mounted whole, MOCKLLM_CONFIG on its key', { skip: HELM_SKIP }, async () => {
  const docs = await render({ values: SCENARIOS.existingConfigMap });
  const { deployment, env } = assertCommon(docs);
  assert.equal(docs.filter((d) => d.kind === 'ConfigMap').length, 0);
  assert.equal(env.MOCKLLM_CONFIG?.value, '/config/answers.yml');
  const volume = deployment.spec.template.spec.volumes?.find((v) => v.configMap);
  assert.equal(volume?.configMap?.name, 'team-answers');
  // rollout cannot work without a ConfigMap to checksum: the render refuses rather than silently not rolling.
  const refused = await helmTemplate({ values: { config: { existingConfigMap: 'team-answers', reloadStrategy: 'rollout' } } });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /reloadStrategy=rollout needs the chart-managed ConfigMap/);
});

test('ingress.enabled: a valid Ingress routing to the Service\'s http port', { skip: HELM_SKIP }, async () => {
  const docs = await render({ values: SCENARIOS.ingress });
  const { service } = assertCommon(docs);
  const ingress = only<K8sDoc & { spec: { ingressClassName?: string; tls?: unknown[]; rules: { host: string; http: { paths: { path: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[] } }>(docs, 'Ingress');
  assert.equal(ingress.spec.ingressClassName, 'nginx');
  assert.deepEqual(ingress.spec.tls, [{ hosts: ['mockllm.example.com'], secretName: 'mockllm-tls' }]);
  assert.equal(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-buffering'], 'off');
  const backend = ingress.spec.rules[0]!.http.paths[0]!.backend.service;
  assert.equal(backend.name, service.metadata.name);
  assert.ok(service.spec.ports.some((p) => (backend.port.name ? p.name === backend.port.name : p.port === backend.port.number)), 'the backend port exists on the Service');
});

test('metrics.serviceMonitor.enabled: a valid ServiceMonitor selecting the Service and scraping /metrics on a named port', { skip: HELM_SKIP }, async () => {
  const docs = await render({ values: SCENARIOS.serviceMonitor });
  const { service } = assertCommon(docs);
  const sm = only<K8sDoc & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string; interval: string; scrapeTimeout: string }[] } }>(docs, 'ServiceMonitor');
  // A ServiceMonitor selects Services (not pods) by their labels.
  assert.ok(subset(sm.spec.selector.matchLabels, service.metadata.labels), 'the selector matches the Service labels');
  const [endpoint] = sm.spec.endpoints;
  assert.ok(service.spec.ports.some((p) => p.name === endpoint!.port), `the endpoint port ${endpoint!.port} is a named Service port`);
  assert.equal(endpoint!.path, '/metrics');
  assert.equal(endpoint!.interval, '15s');
  assert.equal(sm.metadata.labels?.release, 'kube-prometheus-stack', 'extra labels reach the ServiceMonitor (Prometheus selects on them)');
});

test('config.reloadStrategy rollout: a checksum/config annotation that follows the answers', { skip: HELM_SKIP }, async () => {
  const docs = await render({ values: SCENARIOS.rollout });
  const { deployment } = assertCommon(docs);
  const checksum = deployment.spec.template.metadata.annotations?.['checksum/config'] ?? '';
  assert.match(checksum, /^[0-9a-f]{64}$/);
  const changed = await render({ values: { ...SCENARIOS.rollout, responses: { 'what is 2+2?': '4' } } });
  const other = only<DeploymentDoc>(changed, 'Deployment').spec.template.metadata.annotations?.['checksum/config'];
  assert.match(other ?? '', /^[0-9a-f]{64}$/);
  assert.notEqual(other, checksum, 'new answers, new checksum, new pods');
  const same = await render({ values: SCENARIOS.rollout });
  assert.equal(only<DeploymentDoc>(same, 'Deployment').spec.template.metadata.annotations?.['checksum/config'], checksum, 'stable when nothing changed');
});

test('the chart ships the image\'s default answers: files/responses.yml is config/responses.yml; a section left unset keeps them', { skip: HELM_SKIP }, async () => {
  assert.equal(
    readFileSync(join(CHART, 'files/responses.yml'), 'utf8'),
    readFileSync(join(REPO, 'config/responses.yml'), 'utf8'),
    'helm/mockllm/files/responses.yml must be a copy of config/responses.yml (Helm cannot read files outside the chart)',
  );
  const docs = await render({ values: { settings: { strict: true } } });
  const file = load(only<K8sDoc & { data: Record<string, string> }>(docs, 'ConfigMap').data['responses.yml']!) as Record<string, unknown>;
  const shipped = load(readFileSync(join(REPO, 'config/responses.yml'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(file.responses, shipped.responses);
  assert.deepEqual(file.defaults, shipped.defaults);
  assert.deepEqual(file.settings, { strict: true });
});

test('with no section set in values, the ConfigMap holds the shipped file as written: comments, key order, emoji as characters', { skip: HELM_SKIP }, async () => {
  const configText = (docs: K8sDoc[]) => only<K8sDoc & { data: Record<string, string> }>(docs, 'ConfigMap').data['responses.yml']!;
  const shipped = readFileSync(join(CHART, 'files/responses.yml'), 'utf8');
  const text = configText(await render());
  assert.equal(text, shipped, 'byte for byte what kubectl edit configmap then shows');
  assert.match(text, /^# mockllm's default answers/);
  assert.ok(text.includes('👨‍👩‍👧‍👦') && !text.includes('\\U0001F468'), 'emoji as characters, not escapes');
  // A section set in values: the file is merged and rewritten, and says so at the top.
  const merged = configText(await render({ values: { settings: { strict: true } } }));
  assert.match(merged, /^# Rendered by the mockllm Helm chart/);
  assert.notEqual(merged, shipped);
});

test('replicaCount, settings and custom responses render through; everything switched on at once still validates', { skip: HELM_SKIP }, async () => {
  const replicas = await render({ values: SCENARIOS.replicas });
  assert.equal(assertCommon(replicas).deployment.spec.replicas, 3);
  const settings = await render({ values: SCENARIOS.settings });
  assertCommon(settings);
  const file = load(only<K8sDoc & { data: Record<string, string> }>(settings, 'ConfigMap').data['responses.yml']!) as Record<string, Record<string, unknown>>;
  assert.deepEqual(file.settings, { match: 'exact', strict: true });
  assert.equal(file.responses!['only question'], 'only answer');
  assert.deepEqual(file.responses, { 'only question': 'only answer' }, 'a section set in values replaces the shipped one (no merging with the demo answers)');
  assert.deepEqual(file.rules, [{ match: { contains: 'weather' }, response: 'Sunny.' }]);
  assert.deepEqual(file.defaults, { unknown_response: 'No idea.' });
  assert.deepEqual(file.models, ['gpt-4o', { id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5' }]);
  assert.deepEqual(file.embeddings, { default_dimensions: 256, vectors: { hello: [0.6, 0.8] } });
  await serverAccepts(only<K8sDoc & { data: Record<string, string> }>(settings, 'ConfigMap').data['responses.yml']!);

  const everything = [SCENARIOS.secret, SCENARIOS.ingress, SCENARIOS.serviceMonitor, SCENARIOS.rollout, SCENARIOS.replicas, SCENARIOS.settings].reduce((a, b) => mergeValues(a, b) as Record<string, unknown>, {});
  assert.ok(validateValues(mergeValues(defaults, everything)), errorsText(validateValues.errors));
  const all = await render({ values: everything, release: 'everything', namespace: 'qa' });
  assertCommon(all);
  assert.deepEqual(all.map((d) => d.kind).sort(), ['ConfigMap', 'Deployment', 'Ingress', 'Secret', 'Service', 'ServiceMonitor']);
});

test('names: a release already called mockllm is not doubled, and overrides keep selectors consistent', { skip: HELM_SKIP }, async () => {
  const plain = await render({ release: 'mockllm' });
  assert.equal(only(plain, 'Deployment').metadata.name, 'mockllm');
  const overridden = await render({ release: 'r1', values: { fullnameOverride: 'llm-double', nameOverride: 'fake-llm' } });
  const { deployment, service } = assertCommon(overridden);
  assert.equal(deployment.metadata.name, 'llm-double');
  assert.equal(service.metadata.name, 'llm-double');
  assert.equal(deployment.spec.selector.matchLabels?.['app.kubernetes.io/name'], 'fake-llm');
});

test('NOTES.txt renders: base URLs for both SDKs, the admin token, and the replicas caveat', { skip: HELM_SKIP }, async () => {
  const { notesOf, cleanup } = await notesRenderer();
  try {
    const plain = await notesOf({});
    assert.match(plain, /OPENAI_BASE_URL=http:\/\/demo-mockllm\.qa\.svc:8000\/v1\b/);
    assert.match(plain, /ANTHROPIC_BASE_URL=http:\/\/demo-mockllm\.qa\.svc:8000\s/);
    assert.match(plain, /port-forward svc\/demo-mockllm/);
    assert.match(plain, /edit configmap demo-mockllm-config/);
    assert.doesNotMatch(plain, /replicas/);
    const busy = await notesOf({ replicaCount: 2, adminToken: { value: 'x' }, ingress: { enabled: true } });
    assert.match(busy, /2 replicas\. Rules added through the admin API live in the memory of the one pod/);
    assert.match(busy, /Secret\s+demo-mockllm-admin-token, key admin-token/);
    assert.match(busy, /http:\/\/mockllm\.local\//);
  } finally {
    await cleanup();
  }
});

test('the chart has no leftovers: every template file renders something under some scenario', { skip: HELM_SKIP }, async () => {
  const rendered = new Set<string>();
  for (const values of [{}, ...Object.values(SCENARIOS)]) {
    const result = await helmTemplate({ values });
    for (const m of result.stdout.matchAll(/^# Source: mockllm\/templates\/(.+)$/gm)) rendered.add(m[1]!);
  }
  const templates = (await readdir(join(CHART, 'templates'))).filter((f) => f.endsWith('.yaml'));
  assert.deepEqual(templates.filter((t) => !rendered.has(t)), []);
  assert.ok((await readFile(join(CHART, 'templates/NOTES.txt'), 'utf8')).length > 0);
});
