// Static policy for the Dockerfile and .dockerignore. No Docker engine here, so this checks what
// can be known without one; image-build.slow.ts (npm run test:image) then replays the build itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerIgnore, readDockerignore } from './support/dockerignore.ts';
import { REPO, buildContextFiles, contextFilesUnder, isInit, readDockerfile } from './support/dockerfile.ts';

const stages = readDockerfile();
const final = stages.at(-1)!;

test('the Dockerfile is multi-stage and every stage runs on an official Node 24 image', () => {
  assert.ok(stages.length >= 2, `expected a build stage and a runtime stage, found ${stages.length} stage(s)`);
  for (const stage of stages) {
    assert.match(stage.image, /^(docker\.io\/(library\/)?)?node:24([.-][\w.-]*)?(@sha256:[0-9a-f]{64})?$/, `stage ${stage.name ?? stage.index}: ${stage.image}`);
  }
  // node_modules built in one stage run in another: a different libc or Node build would break native modules.
  assert.equal(new Set(stages.map((s) => s.image)).size, 1, 'all stages share one base image');
  const runs = (stage: (typeof stages)[number]) => stage.steps.flatMap((s) => (s.kind === 'RUN' ? [s.command] : []));
  const builder = stages.find((s) => runs(s).some((c) => /\bnpm ci\b(?!.*--omit=dev)/.test(c)));
  assert.ok(builder, 'a stage installs all dependencies with npm ci');
  assert.ok(runs(builder).some((c) => /\bnpm run build\b/.test(c)), 'the npm ci stage also compiles (npm run build)');
  assert.notEqual(builder, final, 'the compiler and dev dependencies stay out of the final stage');
});

test('the final stage ships only production dependencies and the built output', () => {
  const copies = final.steps.flatMap((s) => (s.kind === 'COPY' ? [s] : []));
  const fromStage = (name: string) => stages.find((s) => s.name === name || String(s.index) === name);
  const nodeModules = copies.find((c) => c.sources.some((src) => /node_modules\/?$/.test(src)));
  if (nodeModules) {
    assert.ok(nodeModules.from, 'node_modules comes from a build stage, not the host');
    const origin = fromStage(nodeModules.from)!;
    assert.ok(
      origin.steps.some((s) => s.kind === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(s.command)),
      `node_modules in the final stage comes from stage "${nodeModules.from}", which must install with npm ci --omit=dev`,
    );
  } else {
    assert.ok(
      final.steps.some((s) => s.kind === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(s.command)),
      'the final stage installs production dependencies (npm ci --omit=dev)',
    );
  }
  assert.ok(copies.some((c) => c.from && c.sources.some((src) => /\/dist\/?$/.test(src))), 'dist/ is copied from a build stage');
  for (const copy of copies.filter((c) => !c.from)) {
    for (const source of copy.sources) assert.doesNotMatch(source, /^(\.\/)?(src|test)(\/|$)/, `the final stage copies ${source} from the context`);
  }
});

test('the final stage runs as a non-root user, by number', () => {
  assert.ok(final.user, 'the final stage sets USER');
  const [user, group] = final.user.split(':');
  assert.match(user!, /^\d+$/, 'a numeric uid lets Kubernetes runAsNonRoot verify it without /etc/passwd');
  assert.notEqual(Number(user), 0, 'not root');
  if (group !== undefined) assert.notEqual(Number(group), 0, 'not the root group');
  const chartUid = /runAsUser:\s*(\d+)/.exec(readFileSync(join(REPO, 'helm/mockllm/values.yaml'), 'utf8'));
  assert.equal(chartUid?.[1], user, "the chart's runAsUser is the image's uid");
});

test('the entrypoint is exec form behind an init that the image installs', () => {
  assert.ok(final.entrypoint, 'ENTRYPOINT is set');
  const exec = final.entrypoint.exec;
  assert.ok(exec, `ENTRYPOINT is exec form (JSON array), got: ${final.entrypoint.raw}`);
  assert.ok(isInit(exec[0]), `ENTRYPOINT starts with an init (tini or equivalent), got ${exec[0]}`);
  const init = exec[0]!.split('/').at(-1)!.replace(/-static$/, '');
  assert.ok(
    final.steps.some((s) => s.kind === 'RUN' && new RegExp(`\\b(apk add|apt-get install)\\b.*\\b${init}\\b`).test(s.command)),
    `the final stage installs ${init}`,
  );
  if (/^tini/.test(init) && /\bapk add\b/.test(final.steps.map((s) => (s.kind === 'RUN' ? s.command : '')).join('\n'))) {
    assert.equal(exec[0], '/sbin/tini', "Alpine's tini package installs /sbin/tini");
  }
  const program = exec.slice(exec.indexOf('--') + 1);
  assert.ok(exec.includes('--'), 'the init ends its own options with --');
  assert.equal(program[0], 'node', 'node runs the server directly (no npm or shell in between to swallow signals)');
  assert.match(program[1] ?? '', /dist\/cli\.js$/);
});

test('HEALTHCHECK probes /healthz with Node itself (no curl in the image)', () => {
  const hc = final.healthcheck;
  assert.ok(hc, 'HEALTHCHECK is set');
  assert.ok(hc.exec, `exec form, got: ${hc.raw}`);
  assert.equal(hc.exec[0], 'node');
  assert.match(hc.exec.join(' '), /fetch\(.*\/healthz/);
  assert.doesNotMatch(hc.raw, /\b(curl|wget)\b/);
  for (const flag of ['interval', 'timeout', 'retries']) assert.ok(hc.flags[flag], `--${flag} is set`);
});

test('port, host and config path: EXPOSE 8000, HOST=0.0.0.0, the default config shipped at MOCKLLM_CONFIG', () => {
  assert.deepEqual(final.expose, ['8000']);
  assert.equal(final.env.PORT ?? '8000', '8000');
  assert.equal(final.env.HOST, '0.0.0.0');
  assert.equal(final.env.MOCKLLM_CONFIG, '/config/responses.yml');
  const configCopy = final.steps.find((s) => s.kind === 'COPY' && !s.from && s.sources.includes('config/responses.yml'));
  assert.ok(configCopy?.kind === 'COPY', 'config/responses.yml is copied into the image');
  assert.ok(['/config/responses.yml', '/config/', '/config'].includes(configCopy.dest), `into /config, got ${configCopy.dest}`);
  // A VOLUME would make Docker create an anonymous volume at /config that shadows later mounts' intent.
  assert.ok(!final.steps.some((s) => s.kind === 'OTHER' && s.keyword === 'VOLUME'), 'no VOLUME instruction');
});

test('every COPY source from the context is tracked by git and not excluded by .dockerignore', () => {
  const context = buildContextFiles();
  assert.ok(context.length > 0, 'the build context is not empty');
  let checked = 0;
  for (const stage of stages) {
    for (const step of stage.steps) {
      if (step.kind !== 'COPY' || step.from) continue;
      for (const source of step.sources) {
        assert.doesNotMatch(source, /[*?[]/, `line ${step.line}: wildcards in COPY sources (${source}) are not checked by this test`);
        assert.ok(contextFilesUnder(context, source).length > 0, `line ${step.line}: COPY ${source} — not in the build context (untracked, missing, or excluded by .dockerignore)`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 3, `checked ${checked} COPY sources`);
});

test('every COPY --from names an earlier stage', () => {
  for (const stage of stages) {
    for (const step of stage.steps) {
      if (step.kind !== 'COPY' || !step.from) continue;
      const origin = stages.find((s) => s.name === step.from || String(s.index) === step.from);
      assert.ok(origin, `line ${step.line}: COPY --from=${step.from} names no stage`);
      assert.ok(origin.index < stage.index, `line ${step.line}: --from=${step.from} is not an earlier stage`);
    }
  }
});

test('.dockerignore keeps dependencies, build output, tests, VCS data and secrets out of the context', () => {
  const ignore = DockerIgnore.parse(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  for (const path of ['node_modules/koa/package.json', 'src/node_modules/x/index.js', 'dist/cli.js', 'test/unit/seed-config.test.ts', '.git/HEAD', '.env', '.env.local', 'helm/mockllm/Chart.yaml', 'README.md', 'config/local-experiment.yml', 'profile.cpuprofile']) {
    assert.ok(ignore.excludes(path), `${path} is excluded`);
  }
  for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/cli.ts', 'config/responses.yml']) {
    assert.ok(!ignore.excludes(path), `${path} is sent`);
  }
  const context = buildContextFiles();
  assert.deepEqual(context.filter((p) => /(^|\/)(node_modules|test|\.git)\//.test(p)), []);
});

test('the .dockerignore matcher follows Docker’s rules', () => {
  assert.deepEqual(readDockerignore('# comment\n /abs/path/ \n\n!./keep\n  # not a comment once indented\n'), ['abs/path', '!keep', '# not a comment once indented']);
  const m = new DockerIgnore(['node_modules', '**/*.md', '!docs/keep.md', 'logs/**', '*/tmp', 'a?c', '**.bak']);
  // Anchored at the root, unlike .gitignore.
  assert.ok(m.excludes('node_modules/x/y.js'));
  assert.ok(!m.excludes('pkg/node_modules/x.js'));
  // ** spans any number of directories, including none.
  assert.ok(m.excludes('README.md'));
  assert.ok(m.excludes('a/b/c/NOTES.md'));
  // The last matching pattern wins.
  assert.ok(!m.excludes('docs/keep.md'));
  assert.ok(m.excludes('docs/other.md'));
  // A trailing ** matches everything below; a directory match excludes its contents.
  assert.ok(m.excludes('logs/2026/today.txt'));
  assert.ok(m.excludes('src/tmp/file.ts'));
  assert.ok(!m.excludes('src/deep/tmp/file.ts'), '* does not cross /');
  assert.ok(m.excludes('abc') && m.excludes('a-c') && !m.excludes('abbc'));
  // A leading ** without a slash is a plain suffix match (patternmatcher's shortcut).
  assert.ok(m.excludes('x/y.bak') && m.excludes('old.bak'));
  // Re-including a file inside an excluded directory works; re-including the directory re-includes all of it.
  const dirs = new DockerIgnore(['config', '!config/responses.yml']);
  assert.ok(!dirs.excludes('config/responses.yml'));
  assert.ok(dirs.excludes('config/other.yml'));
  const everything = new DockerIgnore(['*', '!src', '!package.json']);
  assert.ok(!everything.excludes('src/a/b.ts') && !everything.excludes('package.json') && everything.excludes('README.md'));
  assert.throws(() => new DockerIgnore(['!']));
});
