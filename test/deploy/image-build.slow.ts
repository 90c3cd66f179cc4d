// The image, built and run without Docker: the Dockerfile's stages are replayed from a clean copy
// of the build context (support/simulate.ts), then the final stage's entrypoint is started with
// the image's environment and user, and probed the way Docker and a client would probe it.
// npm ci runs twice against the registry, hence the long timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildContextFiles, isInit, readDockerfile } from './support/dockerfile.ts';
import { askOpenAI } from './support/poll.ts';
import { runCommand, startServerProcess, type ServerProcess } from './support/process.ts';
import { inRoot, openPathForOthers, simulateBuild } from './support/simulate.ts';

test('the image builds from a clean context and its entrypoint serves with the image environment', { timeout: 15 * 60_000 }, async (t) => {
  const stages = readDockerfile();
  const final = stages.at(-1)!;
  const work = await mkdtemp(join(tmpdir(), 'mockllm-image-'));
  let server: ServerProcess | undefined;
  try {
    const started = performance.now();
    const image = await simulateBuild(stages, buildContextFiles(), work);
    t.diagnostic(`simulated build: ${Math.round((performance.now() - started) / 1000)} s (${image.timings.map((s) => `${s.step}: ${Math.round(s.ms / 1000)} s`).join('; ')})`);
    for (const note of image.skipped) t.diagnostic(`not replayed: ${note}`);

    // What the final stage holds: runtime pieces only.
    const app = image.cwd;
    assert.ok(existsSync(join(app, 'dist/cli.js')), 'dist/cli.js is in the image');
    assert.ok(existsSync(join(app, 'node_modules/koa/package.json')), 'production dependencies are installed');
    const pkg = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    for (const dev of Object.keys(pkg.devDependencies)) {
      assert.ok(!existsSync(join(app, 'node_modules', dev)), `dev dependency ${dev} is not in the image`);
    }
    const top = readdirSync(app).sort();
    for (const absent of ['src', 'test', '.git', 'tsconfig.json']) assert.ok(!top.includes(absent), `${absent} is not in the image (found: ${top.join(', ')})`);
    assert.ok(existsSync(image.env.MOCKLLM_CONFIG ?? ''), 'the default config sits where MOCKLLM_CONFIG points');

    // The container's command line: ENTRYPOINT + CMD, without the init (it only forwards signals).
    const argv = [...(final.entrypoint?.exec ?? []), ...(final.cmd?.exec ?? [])];
    assert.ok(argv.length > 0, 'the image has an exec-form command');
    if (isInit(argv[0])) argv.splice(0, argv.indexOf('--') + 1);
    assert.equal(argv[0], 'node');
    const args = argv.slice(1).map((arg) => (arg.startsWith('/') ? inRoot(image.root, arg) : arg));

    // The image's uid, where this machine lets us switch to it: it can read the app but not write it.
    const [uid, gid] = (final.user ?? '').split(':').map(Number);
    let ids: { uid?: number; gid?: number } = {};
    if (process.getuid?.() === 0 && Number.isInteger(uid)) {
      await openPathForOthers(work, work);
      const probe = await runCommand(process.execPath, ['-e', '0'], { uid: uid!, gid: Number.isInteger(gid) ? gid! : uid! });
      if (probe.code === 0) ids = { uid: uid!, gid: Number.isInteger(gid) ? gid! : uid! };
      else t.diagnostic(`uid ${uid} cannot run ${process.execPath} here; the server runs as the current user`);
    } else {
      t.diagnostic(`not root: the server runs as the current user, not the image's USER ${final.user}`);
    }

    // PORT=0 instead of the image's 8000 so parallel test runs and local servers cannot collide.
    const env = { PATH: `${join(process.execPath, '..')}:/usr/bin:/bin`, ...image.env, PORT: '0' };
    server = await startServerProcess({ command: process.execPath, args, cwd: app, env, ...ids });
    assert.equal(server.listening.host, '0.0.0.0', 'the image environment binds all interfaces, reachable from outside the container');

    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await askOpenAI(server.url, 'what is 2+2?'), '2+2 equals 9.');
    // The chart's readiness probe and its ServiceMonitor's scrape target.
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200, 'ready with the shipped config');
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/, 'Prometheus text format');
    assert.match(await metrics.text(), /^# (HELP|TYPE) /m);

    // Docker's HEALTHCHECK, run as Docker runs it: exec form, the image's environment and user.
    const healthcheck = final.healthcheck?.exec;
    assert.ok(healthcheck, 'exec-form HEALTHCHECK');
    const hcEnv = { ...env, PORT: String(server.port) };
    const runHealthcheck = () => runCommand(healthcheck[0] === 'node' ? process.execPath : healthcheck[0]!, healthcheck.slice(1), { cwd: app, env: hcEnv, ...ids, timeoutMs: 10_000 });
    const healthy = await runHealthcheck();
    assert.equal(healthy.code, 0, `HEALTHCHECK passes against the running server: ${healthy.output}`);

    // docker stop / pod termination: SIGTERM, graceful exit 0 (tini passes the signal through).
    assert.equal(await server.terminate(), 0, 'exit code 0 after SIGTERM');
    const unhealthy = await runHealthcheck();
    assert.notEqual(unhealthy.code, 0, 'HEALTHCHECK fails once the server is gone');
  } finally {
    await server?.kill();
    await rm(work, { recursive: true, force: true });
  }
});
