import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSource } from '../../src/config/source.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startTestServerAt } from '../helpers/server.ts';
import { ask, configWith, countMsg, msUntilAnswer } from './support.ts';

// The layout the kubelet gives a mounted ConfigMap: the real file lives in a timestamped dir,
// `..data` points at that dir, and `responses.yml` is a fixed symlink through `..data`.
// An update never touches `responses.yml`; it swaps `..data` atomically and removes the old dir.

async function writeVersion(dir: string, stamp: string, text: string): Promise<string> {
  const versionDir = `..2026_11_24_10_${stamp}.xyz`;
  await mkdir(join(dir, versionDir));
  await writeFile(join(dir, versionDir, 'responses.yml'), text);
  return versionDir;
}

async function kubeletUpdate(dir: string, stamp: string, text: string): Promise<void> {
  const old = await readlink(join(dir, '..data'));
  const next = await writeVersion(dir, stamp, text);
  await symlink(next, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  await rm(join(dir, old), { recursive: true });
}

test('a Kubernetes ConfigMap update (atomic ..data symlink swap) is served, twice in a row', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-configmap-'));
  const first = await writeVersion(dir, '00_00', configWith('first'));
  await symlink(first, join(dir, '..data'));
  await symlink(join('..data', 'responses.yml'), join(dir, 'responses.yml'));
  const server = await startTestServerAt(dir, join(dir, 'responses.yml'));
  try {
    assert.equal(await ask(server), 'first');
    const latencies: number[] = [];
    latencies.push(await msUntilAnswer(server, () => kubeletUpdate(dir, '01_00', configWith('second')), 'second'));
    latencies.push(await msUntilAnswer(server, () => kubeletUpdate(dir, '02_00', configWith('third')), 'third'));
    console.log(`ConfigMap ..data swap → new answer served: ${latencies.join(', ')} ms`);
    assert.equal(countMsg(server, 'config reloaded'), 2);
    assert.deepEqual(server.logs.filter((line) => line.level === 50), [], 'the swap is never seen half-done');
  } finally {
    await server.stop();
  }
});

test('closing the config while a reload is following a ..data swap ends cleanly (a pod stopped mid-update exits 0)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mockllm-configmap-'));
  try {
    const first = await writeVersion(dir, '00_00', configWith('first'));
    await symlink(first, join(dir, '..data'));
    await symlink(join('..data', 'responses.yml'), join(dir, 'responses.yml'));
    const loaded: string[] = [];
    const source = new ConfigSource({ path: join(dir, 'responses.yml'), logger: createLogger('silent'), onLoad: (config) => loaded.push(config.hash), pollMs: 60_000 });
    source.loadInitial();
    await source.watch();
    await kubeletUpdate(dir, '01_00', configWith('second'));
    // The reload resolves the symlink's new target first; close() comes while it does, and closes
    // the watcher the reload would add the new target's directory to.
    const reloading = source.reload();
    await source.close();
    assert.equal(await reloading, 'updated', 'the reload that was running still finishes');
    assert.equal(loaded.length, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
