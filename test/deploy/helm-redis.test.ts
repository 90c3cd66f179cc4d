// The chart's shared-state parts (issue 13): a bundled Redis (redis.enabled), an external one
// (redis.url, redis.existingSecret), the HorizontalPodAutoscaler, and NOTES.txt on what is per pod.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv, type ErrorObject } from 'ajv';
import { load } from 'js-yaml';
import { RedisServer, redisMissing } from '../state/support/redis.ts';
import { CHART, HELM_SKIP, helmTemplate, mergeValues, notesRenderer, only, render, validateDoc, type Container, type DeploymentDoc, type K8sDoc, type ServiceDoc } from './support/helm.ts';

const defaults = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
const errorsText = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');

interface StatefulSetDoc extends K8sDoc {
  spec: {
    replicas: number;
    serviceName: string;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; securityContext: Record<string, unknown>; volumes?: { name: string }[] } };
    volumeClaimTemplates?: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }[];
  };
}

const subset = (small: Record<string, string> = {}, big: Record<string, string> = {}) => Object.entries(small).every(([k, v]) => big[k] === v);
const envOf = (deployment: DeploymentDoc) => Object.fromEntries((deployment.spec.template.spec.containers[0]!.env ?? []).map((e) => [e.name, e]));

test('values: redis.enabled, redis.url and redis.existingSecret are alternatives; autoscaling takes whole numbers', () => {
  for (const values of [{ redis: { enabled: true } }, { redis: { url: 'redis://r:6379/0' } }, { redis: { existingSecret: 'r', secretKey: 'u' } }, { autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 3 } }]) {
    assert.ok(validate(mergeValues(defaults, values)), `${JSON.stringify(values)}: ${errorsText(validate.errors)}`);
  }
  for (const values of [
    { redis: { enabled: true, url: 'redis://r:6379' } },
    { redis: { url: 'redis://r:6379', existingSecret: 'r' } },
    { redis: { url: 'http://r:6379' } },
    { autoscaling: { maxReplicas: 'many' } },
    { extraEnv: [{ name: 'MOCKLLM_REDIS_URL', value: 'redis://x' }] },
  ]) {
    assert.equal(validate(mergeValues(defaults, values)), false, `${JSON.stringify(values)} is rejected`);
  }
});

test('redis.enabled: one Redis (official image, append-only file on a claim, non-root, probes, resources) behind a Service whose name the pods are given', { skip: HELM_SKIP }, async () => {
  const docs = await render({ release: 'demo', values: { replicaCount: 3, redis: { enabled: true } } });
  for (const doc of docs) validateDoc(doc);
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['ConfigMap', 'Deployment', 'Service', 'Service', 'StatefulSet']);
  const redis = only<StatefulSetDoc>(docs, 'StatefulSet');
  const services = docs.filter((d): d is ServiceDoc => d.kind === 'Service');
  const redisService = services.find((s) => s.metadata.name === 'demo-mockllm-redis')!;
  const mockService = services.find((s) => s.metadata.name === 'demo-mockllm')!;
  assert.ok(redisService && mockService, services.map((s) => s.metadata.name).join(', '));
  const deployment = only<DeploymentDoc>(docs, 'Deployment');

  // The env the pods get names the Service that selects the Redis pod, on its port.
  const url = new URL(envOf(deployment).MOCKLLM_REDIS_URL!.value!);
  assert.equal(url.protocol, 'redis:');
  assert.equal(url.hostname, redisService.metadata.name);
  assert.equal(Number(url.port), redisService.spec.ports[0]!.port);
  assert.equal(envOf(deployment).MOCKLLM_REDIS_PREFIX!.value, 'mockllm:');
  const redisPods = redis.spec.template.metadata.labels;
  assert.ok(subset(redisService.spec.selector, redisPods), 'the Redis Service selects the Redis pod');
  assert.ok(subset(redis.spec.selector.matchLabels, redisPods));
  assert.equal(redis.spec.serviceName, redisService.metadata.name);
  const redisContainer = redis.spec.template.spec.containers[0]!;
  assert.equal(redisService.spec.ports[0]!.targetPort, redisContainer.ports![0]!.name);
  // Neither Service picks the other's pods.
  assert.ok(!subset(mockService.spec.selector, redisPods), 'the mockllm Service does not send API calls to Redis');
  assert.ok(!subset(redisService.spec.selector, deployment.spec.template.metadata.labels), 'the Redis Service does not select mockllm pods');

  assert.match(redisContainer.image, /^redis:/);
  assert.deepEqual(redisContainer.args!.slice(0, 3), ['redis-server', '--appendonly', 'yes']);
  assert.equal(redis.spec.template.spec.securityContext.runAsNonRoot, true);
  assert.notEqual(redis.spec.template.spec.securityContext.runAsUser, 0);
  assert.equal(redisContainer.securityContext?.allowPrivilegeEscalation, false);
  assert.ok(redisContainer.livenessProbe && redisContainer.readinessProbe);
  assert.ok(redisContainer.resources?.requests?.memory && redisContainer.resources.limits?.memory);
  assert.equal(redis.spec.volumeClaimTemplates?.[0]?.metadata.name, 'data');
  assert.ok(redisContainer.volumeMounts!.some((m) => m.name === 'data' && m.mountPath === '/data'));

  const ephemeral = only<StatefulSetDoc>(await render({ values: { redis: { enabled: true, persistence: { enabled: false } } } }), 'StatefulSet');
  assert.equal(ephemeral.spec.volumeClaimTemplates, undefined);
  assert.deepEqual(ephemeral.spec.template.spec.volumes?.map((v) => v.name), ['data']);
});

test('the bundled Redis\'s arguments start a real redis-server with the append-only file on', { skip: HELM_SKIP || redisMissing }, async () => {
  const redis = only<StatefulSetDoc>(await render({ values: { redis: { enabled: true } } }), 'StatefulSet');
  const args = redis.spec.template.spec.containers[0]!.args!.slice(1);
  const server = await RedisServer.start(args.map((arg) => (arg === '/data' ? '.' : arg)));
  try {
    assert.match(server.cli('CONFIG', 'GET', 'appendonly'), /appendonly\s+yes/);
  } finally {
    await server.stop();
  }
});

test('an external Redis: redis.url as a value, redis.existingSecret through a secretKeyRef; no Redis deployed', { skip: HELM_SKIP }, async () => {
  const byUrl = await render({ values: { redis: { url: 'redis://redis.shared.svc:6379/2', prefix: 'team-a:' } } });
  assert.deepEqual(byUrl.map((d) => d.kind).sort(), ['ConfigMap', 'Deployment', 'Service']);
  const env = envOf(only<DeploymentDoc>(byUrl, 'Deployment'));
  assert.equal(env.MOCKLLM_REDIS_URL!.value, 'redis://redis.shared.svc:6379/2');
  assert.equal(env.MOCKLLM_REDIS_PREFIX!.value, 'team-a:');
  const bySecret = envOf(only<DeploymentDoc>(await render({ values: { redis: { existingSecret: 'team-redis', secretKey: 'url' } } }), 'Deployment'));
  assert.deepEqual(bySecret.MOCKLLM_REDIS_URL!.valueFrom, { secretKeyRef: { name: 'team-redis', key: 'url' } });
  const none = envOf(only<DeploymentDoc>(await render(), 'Deployment'));
  assert.equal(none.MOCKLLM_REDIS_URL, undefined, 'no Redis unless asked for');
});

test('autoscaling.enabled: a valid HorizontalPodAutoscaler on the Deployment by CPU, and the Deployment leaves the count to it', { skip: HELM_SKIP }, async () => {
  const docs = await render({ release: 'load', values: { replicaCount: 5, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 8, targetCPUUtilizationPercentage: 60 }, redis: { enabled: true } } });
  for (const doc of docs) validateDoc(doc);
  const hpa = only<K8sDoc & { spec: Record<string, any> }>(docs, 'HorizontalPodAutoscaler');
  const deployment = only<DeploymentDoc>(docs, 'Deployment');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  assert.equal(hpa.spec.minReplicas, 2);
  assert.equal(hpa.spec.maxReplicas, 8);
  assert.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  assert.equal(deployment.spec.replicas, undefined);
  assert.ok(deployment.spec.template.spec.containers[0]!.resources?.requests?.cpu, 'a CPU request for the utilisation to be relative to');
  const inverted = await helmTemplate({ values: { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } } });
  assert.notEqual(inverted.code, 0);
  assert.match(inverted.stderr, /minReplicas must not exceed/);
});

test('NOTES.txt says what is per pod without Redis when there are several pods, and that they share it with Redis', { skip: HELM_SKIP }, async () => {
  const { notesOf, cleanup } = await notesRenderer();
  try {
    const autoscaled = await notesOf({ autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 } });
    assert.match(autoscaled, /2 to 6 replicas\. Rules added through the admin API live in the memory of the one pod/);
    assert.match(autoscaled, /sequence progress/);
    assert.match(autoscaled, /request journal/);
    assert.match(autoscaled, /previous_response_id resolves only on the pod that answered/);
    const shared = await notesOf({ replicaCount: 3, redis: { enabled: true } });
    assert.match(shared, /3 replicas share admin changes, sequence progress, the request journal and stored Responses\s+through Redis \(demo-mockllm-redis:6379/);
    assert.doesNotMatch(shared, /memory of the one pod/);
    assert.doesNotMatch(await notesOf({ redis: { enabled: true } }), /replicas/, 'one pod: nothing to say');
  } finally {
    await cleanup();
  }
});
