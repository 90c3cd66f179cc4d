// A Kubernetes ConfigMap update, played on a real server process started the way the chart's
// Deployment starts it. The kubelet never rewrites a projected file: it writes a new timestamped
// directory, points a `..data_tmp` symlink at it, renames that over `..data`, then deletes the old
// directory; `responses.yml` itself is a symlink to `..data/responses.yml` that never changes.
// That only reaches a server that watches the mounted directory, which is why the chart mounts
// it without subPath.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { REPO } from './support/dockerfile.ts';
import { HELM_SKIP, only, render, type DeploymentDoc, type K8sDoc } from './support/helm.ts';
import { askOpenAI, poll } from './support/poll.ts';
import { startServerProcess, type ServerProcess } from './support/process.ts';

/** The kubelet's AtomicWriter, reduced to what a ConfigMap volume does on disk. */
class ConfigMapVolume {
  #n = 0;
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  async #writeVersion(data: Record<string, string>): Promise<string> {
    // Same shape as the kubelet's names: ..YYYY_MM_DD_HH_MM_SS.<random>
    const name = `..2026_11_24_10_00_0${this.#n++}.${Math.random().toString(36).slice(2, 11)}`;
    await mkdir(join(this.dir, name));
    for (const [key, value] of Object.entries(data)) await writeFile(join(this.dir, name, key), value);
    return name;
  }

  async create(data: Record<string, string>): Promise<void> {
    const version = await this.#writeVersion(data);
    await symlink(version, join(this.dir, '..data'));
    for (const key of Object.keys(data)) await symlink(posix.join('..data', key), join(this.dir, key));
  }

  async update(data: Record<string, string>): Promise<void> {
    const old = await readlink(join(this.dir, '..data'));
    const version = await this.#writeVersion(data);
    await symlink(version, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    await rm(join(this.dir, old), { recursive: true, force: true });
  }
}

test('a ConfigMap update reaches a server started as the chart starts it, without a restart', { timeout: 120_000, skip: HELM_SKIP }, async (t) => {
  const docs = await render({ values: { adminToken: { value: 'rendered-token' } } });
  const deployment = only<DeploymentDoc>(docs, 'Deployment');
  const configMap = only<K8sDoc & { data: Record<string, string> }>(docs, 'ConfigMap');
  const container = deployment.spec.template.spec.containers[0]!;
  const configVolume = deployment.spec.template.spec.volumes!.find((v) => v.configMap?.name === configMap.metadata.name)!;
  const mount = container.volumeMounts!.find((m) => m.name === configVolume.name)!;
  assert.equal(mount.subPath, undefined);

  const work = await mkdtemp(join(tmpdir(), 'mockllm-configmap-'));
  const volume = new ConfigMapVolume(join(work, 'config'));
  await mkdir(volume.dir);
  let server: ServerProcess | undefined;
  try {
    await volume.create(configMap.data);
    const key = Object.keys(configMap.data)[0]!;

    // The container's environment, from the rendered Deployment: paths under the mount move to the
    // temp directory, Secret references get a value, and PORT becomes 0 (a free port) so parallel
    // runs cannot collide; everything else is passed as rendered.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const entry of container.env ?? []) {
      if (entry.valueFrom?.secretKeyRef) env[entry.name] = 'token-from-secret';
      else env[entry.name] = (entry.value ?? '').startsWith(`${mount.mountPath}/`) ? join(volume.dir, entry.value!.slice(mount.mountPath.length + 1)) : (entry.value ?? '');
    }
    assert.equal(env.MOCKLLM_CONFIG, join(volume.dir, key), 'MOCKLLM_CONFIG names the projected file');
    env.PORT = '0';
    // The image's entrypoint runs dist/cli.js; the source runs the same CLI without a build.
    server = await startServerProcess({ command: process.execPath, args: [join(REPO, 'src/cli.ts')], cwd: work, env });
    const pid = server.child.pid;
    const url = server.url;

    assert.equal(await askOpenAI(url, 'what is 2+2?'), '2+2 equals 9.', 'the rendered ConfigMap is served');
    assert.equal((await fetch(`${url}/readyz`)).status, 200, 'ready');

    const withAnswer = (answer: string) => ({ ...configMap.data, [key]: configMap.data[key]!.replace('2+2 equals 9.', answer) });
    for (const answer of ['2+2 equals 10.', '2+2 equals 4, finally.']) {
      const started = performance.now();
      await volume.update(withAnswer(answer));
      let last = '';
      await poll(async () => (last = await askOpenAI(url, 'what is 2+2?')) === answer, { timeoutMs: 15_000, intervalMs: 25, what: `the answer "${answer}" (last: "${last}")` });
      t.diagnostic(`..data swap → new answer served in ${Math.round(performance.now() - started)} ms`);
    }
    assert.equal((await readdir(volume.dir)).filter((name) => name.startsWith('..2')).length, 1, 'old versions deleted, as the kubelet does');

    // A broken edit: the server reports it and keeps serving the last good config, still ready.
    const errorsBefore = server.logs().filter((l) => Number(l.level) >= 50).length;
    await volume.update({ [key]: 'responses: [this is not: a map\n' });
    await poll(() => server!.logs().filter((l) => Number(l.level) >= 50).length > errorsBefore, { timeoutMs: 15_000, what: 'an error log line for the broken config' });
    assert.equal(await askOpenAI(url, 'what is 2+2?'), '2+2 equals 4, finally.', 'the last good config keeps serving');
    assert.equal((await fetch(`${url}/readyz`)).status, 200, 'still ready: the pod keeps serving its last good config');
    await volume.update(withAnswer('2+2 equals 11.'));
    await poll(async () => (await askOpenAI(url, 'what is 2+2?')) === '2+2 equals 11.', { timeoutMs: 15_000, what: 'recovery after a fixed config' });

    assert.equal(server.child.pid, pid);
    assert.equal(server.child.exitCode, null, 'the same process served every version: no restart');
    assert.equal(await server.terminate(), 0, 'SIGTERM: graceful exit 0');
  } finally {
    await server?.kill();
    await rm(work, { recursive: true, force: true });
  }
});
