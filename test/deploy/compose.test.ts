// docker-compose.yml: valid against the official Compose schema (the copy dclint bundles), wired
// the way the sidecar pattern needs, and its two commands (the healthcheck and the example
// consumer) exercised against a real server started as the container would start it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { load } from 'js-yaml';
import { REPO, readDockerfile } from './support/dockerfile.ts';
import { runCommand, startServerProcess, type ServerProcess } from './support/process.ts';

interface ComposeService {
  build?: string | { context?: string; dockerfile?: string };
  image?: string;
  profiles?: string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  read_only?: boolean;
  tmpfs?: string | string[];
  healthcheck?: { test?: string | string[]; interval?: string; timeout?: string; retries?: number; start_period?: string; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  command?: string | string[];
}

const composeText = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
const compose = load(composeText) as { services: Record<string, ComposeService> };
// {} when missing, so each test fails on its own assertion rather than all at load time.
const mockllm: ComposeService = compose.services.mockllm ?? {};
const consumerEntry = Object.entries(compose.services).find(([name]) => name !== 'mockllm');

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((entry) => [entry.split('=')[0]!, entry.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Long and short volume syntax, as {source, target, readOnly}. */
function volumesOf(service: ComposeService) {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume === 'string') {
      const [source, target, mode] = volume.split(':');
      return { type: source?.startsWith('.') || source?.startsWith('/') ? 'bind' : 'volume', source, target, readOnly: (mode ?? '').split(',').includes('ro') };
    }
    return { type: volume.type, source: volume.source, target: volume.target, readOnly: volume.read_only === true };
  });
}

test('docker-compose.yml is valid against the Compose specification schema', () => {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(readFileSync(join(dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json'), 'utf8')) as { $schema: string };
  const draft7 = JSON.parse(readFileSync(require.resolve('ajv/dist/refs/json-schema-draft-07.json'), 'utf8')) as Record<string, unknown>;
  // strict: false because the schema is third-party (it uses union types ajv's strict mode flags); it is still checked against its meta-schema.
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addMetaSchema({ ...draft7, $id: schema.$schema });
  const validate = ajv.compile(schema);
  assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
  // The same validator rejects what Compose would reject, so a pass above means something.
  const typo = structuredClone(compose);
  (typo.services.mockllm!.healthcheck as Record<string, unknown>).intervall = '2s';
  assert.equal(validate(typo), false, 'a misspelt healthcheck key is rejected');
  // Compose interpolates $VAR even inside commands; a literal $ must be written $$.
  assert.doesNotMatch(composeText.replace(/\$\$/g, ''), /\$/, 'no unescaped $ in the file');
});

test('dclint finds no errors in docker-compose.yml (its warnings are style: key and service order)', async () => {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('dclint/package.json');
  const bin = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: Record<string, string> }).bin.dclint!;
  const lint = await runCommand(process.execPath, [join(dirname(pkgPath), bin), join(REPO, 'docker-compose.yml')], { cwd: REPO, timeoutMs: 60_000 });
  assert.equal(lint.code, 0, lint.output);
  assert.doesNotMatch(lint.output, /\berror\b/);
});

test('the mockllm service: built from this repo, healthchecked, read-only, config directory mounted read-only at /config', () => {
  assert.ok(compose.services.mockllm, 'a service named mockllm');
  assert.equal(mockllm.profiles, undefined, 'mockllm starts without a profile');
  const context = typeof mockllm.build === 'string' ? mockllm.build : mockllm.build?.context;
  assert.ok(context !== undefined && existsSync(join(REPO, context, 'Dockerfile')), 'built from the Dockerfile in this repository');
  assert.equal(mockllm.read_only, true);
  const tmpfs = [mockllm.tmpfs ?? []].flat();
  assert.ok(tmpfs.some((t) => t.split(':')[0] === '/tmp'), 'a tmpfs at /tmp for anything needing scratch space');

  const hc = mockllm.healthcheck;
  assert.ok(hc && !hc.disable, 'a healthcheck');
  assert.ok(Array.isArray(hc.test) && hc.test[0] === 'CMD', 'exec form (CMD), no shell needed');
  assert.equal(hc.test[1], 'node', 'probes with node (the image has no curl)');
  assert.match(hc.test.join(' '), /\/healthz/);
  assert.ok(hc.interval && hc.retries, 'interval and retries set');

  const config = volumesOf(mockllm).filter((v) => v.target === '/config');
  assert.equal(config.length, 1, 'one mount at /config');
  const [mount] = config;
  assert.equal(mount!.type, 'bind');
  assert.equal(mount!.readOnly, true, 'mounted read-only');
  const source = resolve(REPO, mount!.source ?? '');
  assert.ok(statSync(source).isDirectory(), `the mount source ${mount!.source} is a directory (a single-file bind mount would not see editors' rename-over saves)`);
  assert.ok(existsSync(join(source, 'responses.yml')), 'holding responses.yml, which the image reads');
  assert.equal(readDockerfile().at(-1)!.env.MOCKLLM_CONFIG, '/config/responses.yml', 'the image reads the mounted file');
});

test('the example consumer: profile "example", waits for a healthy mockllm, reaches it by service name', () => {
  assert.ok(consumerEntry, 'an example consumer service');
  const [, consumer] = consumerEntry;
  assert.deepEqual(consumer.profiles, ['example']);
  const dependsOn = consumer.depends_on;
  assert.ok(dependsOn && !Array.isArray(dependsOn), 'long-form depends_on (the short form does not wait for health)');
  assert.equal(dependsOn.mockllm?.condition, 'service_healthy');
  const env = environmentOf(consumer);
  const port = readDockerfile().at(-1)!.env.PORT ?? '8000';
  // The container port, not the published one: containers talk over the compose network.
  assert.equal(env.OPENAI_BASE_URL, `http://mockllm:${port}/v1`, 'OpenAI SDKs want /v1 in the base URL');
  assert.equal(env.ANTHROPIC_BASE_URL, `http://mockllm:${port}`, 'Anthropic SDKs add /v1 themselves');
});

test("the compose healthcheck and the example consumer's command work against a server started like the container", { timeout: 120_000 }, async () => {
  const mount = volumesOf(mockllm).find((v) => v.target === '/config')!;
  const image = readDockerfile().at(-1)!.env;
  const configFile = join(resolve(REPO, mount.source ?? ''), 'responses.yml');
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...image, ...environmentOf(mockllm), MOCKLLM_CONFIG: configFile, PORT: '0' };
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({ command: process.execPath, args: [join(REPO, 'src/cli.ts')], cwd: REPO, env });
    const healthcheck = mockllm.healthcheck!.test as string[];
    const hcEnv = { ...env, PORT: String(server.port) };
    const healthy = await runCommand(process.execPath, healthcheck.slice(2), { env: hcEnv, timeoutMs: 10_000 });
    assert.equal(healthy.code, 0, `the healthcheck passes: ${healthy.output}`);

    // The consumer's own command, with the service name resolved to this machine.
    const [, consumer] = consumerEntry!;
    const command = [consumer.command ?? []].flat();
    assert.equal(command[0], 'node', 'the example runs a node command');
    const consumerEnv = Object.fromEntries(
      Object.entries(environmentOf(consumer)).map(([k, v]) => [k, v.replace(/^http:\/\/mockllm:\d+/, `http://127.0.0.1:${server!.port}`)]),
    );
    const run = await runCommand(process.execPath, command.slice(1), { env: { PATH: env.PATH, ...consumerEnv }, timeoutMs: 30_000 });
    assert.equal(run.code, 0, `the example consumer succeeds: ${run.output}`);
    assert.match(run.output, /openai: +2\+2 equals 9\./);
    assert.match(run.output, /anthropic: +2\+2 equals 9\./);

    assert.equal(await server.terminate(), 0);
    const unhealthy = await runCommand(process.execPath, healthcheck.slice(2), { env: hcEnv, timeoutMs: 10_000 });
    assert.notEqual(unhealthy.code, 0, 'the healthcheck fails once the server is gone');
  } finally {
    await server?.kill();
  }
});
