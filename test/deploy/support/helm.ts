// Renders the chart offline and validates what comes out with the kubernetes-models schemas. The
// renderer is `helm` when it is on PATH (`helm template`), else helm-lite's `helm-template` in
// ../shared/tools/helm-lite beside the repository when that is present; with neither, the tests
// that render are skipped and say why (HELM_SKIP), so that a fresh clone's `npm test` depends on
// nothing outside the repository.

import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { cp, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { REPO } from './dockerfile.ts';

export const CHART = join(REPO, 'helm/mockllm');
/** helm-lite's renderer, when the repository sits beside a shared/ folder that has it. */
export const HELM_LITE = resolve(REPO, '../shared/tools/helm-lite/helm-template');

export interface HelmRenderer {
  /** The executable and the arguments before `RELEASE CHART`. */
  command: string;
  args: string[];
  /** For diagnostics: which renderer the tests used. */
  label: string;
}

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** `helm` on PATH, else helm-lite beside the repository, else null. */
export function findHelmRenderer(path = process.env.PATH ?? '', helmLite = HELM_LITE): HelmRenderer | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const helm = join(dir, 'helm');
    if (isExecutable(helm)) return { command: helm, args: ['template'], label: `helm template (${helm})` };
  }
  if (existsSync(helmLite) && isExecutable(helmLite)) return { command: helmLite, args: [], label: `helm-lite (${helmLite})` };
  return null;
}

export const HELM = findHelmRenderer();

/** Why the rendering tests are skipped, or undefined when they can run: pass as `{ skip: HELM_SKIP }`. */
export const HELM_SKIP: string | undefined = HELM
  ? undefined
  : `no chart renderer: put helm on PATH (https://helm.sh/docs/intro/install/) or helm-lite at ${HELM_LITE}`;

export interface K8sDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderResult {
  code: number;
  stdout: string;
  stderr: string;
  docs: K8sDoc[];
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  values?: Record<string, unknown>;
  chart?: string;
  /** Parse the output as YAML documents (default true). */
  parse?: boolean;
}

/** `helm template RELEASE CHART -f values.yaml`, exit code and all (a failed render is a result, not a throw). */
export async function helmTemplate(options: RenderOptions = {}): Promise<RenderResult> {
  if (!HELM) throw new Error(HELM_SKIP);
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-helm-'));
  try {
    const args = [...HELM.args, options.release ?? 'test', options.chart ?? CHART, '-n', options.namespace ?? 'mock'];
    if (options.values) {
      const file = join(dir, 'values.yaml');
      await writeFile(file, dump(options.values));
      args.push('-f', file);
    }
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(HELM.command, args, { maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60_000 }, (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
    const docs = code === 0 && options.parse !== false ? (loadAll(stdout) as (K8sDoc | null | undefined)[]).filter((d): d is K8sDoc => d !== null && d !== undefined) : [];
    return { code, stdout, stderr, docs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Renders and insists on success. */
export async function render(options: RenderOptions = {}): Promise<K8sDoc[]> {
  const result = await helmTemplate(options);
  if (result.code !== 0) throw new Error(`helm template failed (exit ${result.code}):\n${result.stderr}`);
  return result.docs;
}

/**
 * NOTES.txt as the chart renders it, for each `values` given to `notesOf`, and what removes the copy
 * it renders from. helm-lite, like `helm template`, skips NOTES.txt; a copy of the chart with it
 * renamed to a template renders it like any other.
 */
export async function notesRenderer(): Promise<{ notesOf(values: Record<string, unknown>): Promise<string>; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-notes-'));
  const chart = join(dir, 'mockllm');
  await cp(CHART, chart, { recursive: true });
  await rename(join(chart, 'templates/NOTES.txt'), join(chart, 'templates/zz-notes.yaml'));
  return {
    async notesOf(values) {
      const result = await helmTemplate({ chart, release: 'demo', namespace: 'qa', values, parse: false });
      if (result.code !== 0) throw new Error(`helm template failed (exit ${result.code}):\n${result.stderr}`);
      const start = result.stdout.indexOf('# Source: mockllm/templates/zz-notes.yaml');
      if (start < 0) throw new Error('the notes did not render');
      return result.stdout.slice(start);
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'networking.k8s.io/v1/Ingress': Ingress,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/**
 * Schema-validates one document (types, required fields, enums, patterns). kubernetes-models
 * does not reject unknown fields, so the tests also assert the fields that matter by value.
 */
export function validateDoc(doc: K8sDoc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no validator for ${doc.apiVersion} ${doc.kind}: add one to test/deploy/support/helm.ts`);
  try {
    new Model(doc as never).validate();
  } catch (error) {
    throw new Error(`${doc.kind} ${doc.metadata?.name}: ${(error as Error).message}`);
  }
}

export function only<T = K8sDoc>(docs: K8sDoc[], kind: string): T {
  const matching = docs.filter((d) => d.kind === kind);
  if (matching.length !== 1) throw new Error(`expected one ${kind}, rendered ${matching.length} (kinds: ${docs.map((d) => d.kind).join(', ')})`);
  return matching[0] as T;
}

/** Helm's values merge: maps merge key by key, null deletes, anything else replaces. */
export function mergeValues(base: unknown, override: unknown): unknown {
  if (override === null) return undefined;
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof override !== 'object' || Array.isArray(override)) return override;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override as Record<string, unknown>)) {
    const merged = mergeValues(out[key], value);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}

// Minimal typings for the parts of a Deployment the tests read.
export interface Probe {
  httpGet?: { path?: string; port?: string | number };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; privileged?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts?: { name: string; mountPath: string; subPath?: string; subPathExpr?: string; readOnly?: boolean }[];
}
export interface DeploymentDoc extends K8sDoc {
  spec: {
    replicas?: number;
    selector: { matchLabels?: Record<string, string> };
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        containers: Container[];
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
        volumes?: { name: string; configMap?: { name: string; items?: unknown[] }; emptyDir?: unknown }[];
      };
    };
  };
}
export interface ServiceDoc extends K8sDoc {
  spec: { selector?: Record<string, string>; ports: { name?: string; port: number; targetPort?: string | number }[] };
}
