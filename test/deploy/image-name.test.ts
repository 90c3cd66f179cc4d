// One image name and tag everywhere a user meets it (issue 18, item 16): what README builds, what
// docker-compose.yml tags and runs, and what the Helm chart pulls by default. Otherwise following
// the README alone ends in ImagePullBackOff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

const version = (JSON.parse(read('package.json')) as { version: string }).version;
const chart = load(read('helm/mockllm/Chart.yaml')) as { appVersion: string };
const values = load(read('helm/mockllm/values.yaml')) as { image: { repository: string; tag: string } };
const compose = load(read('docker-compose.yml')) as { services: { mockllm: { image?: string; build?: unknown } } };
const readme = read('README.md');

test("the Helm chart's default image is mockllm at the package version", () => {
  assert.equal(String(chart.appVersion), version, "Chart.yaml's appVersion is package.json's version");
  assert.equal(values.image.repository, 'mockllm');
  assert.equal(values.image.tag, '', 'the tag defaults to appVersion');
});

test('docker-compose.yml builds and names the image as the chart pulls it', () => {
  assert.equal(compose.services.mockllm.image, `mockllm:${version}`);
  assert.ok(compose.services.mockllm.build !== undefined, 'and still builds it from this repository');
});

test("README's docker build, docker run, compose example and Helm steps all use that name", () => {
  const image = `mockllm:${version}`;
  const builds = [...readme.matchAll(/docker build -t (\S+)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(builds)], [image], 'every docker build tags the chart default');
  const runs = [...readme.matchAll(/^docker run .* (\S+)$/gm)].map((m) => m[1]);
  assert.ok(runs.length > 0 && runs.every((name) => name === image), `docker run uses ${image}: ${runs.join(', ')}`);
  const composeImages = [...readme.matchAll(/^\s+image: (mockllm\S*)/gm)].map((m) => m[1]);
  assert.ok(composeImages.length > 0 && composeImages.every((name) => name === image), `compose examples use ${image}: ${composeImages.join(', ')}`);
  // No other tag of the image is mentioned anywhere (mockllm:latest was the old README's).
  const mentioned = new Set([...readme.matchAll(/(?<!\/\/)\bmockllm:([\w.-]+)/g)].map((m) => m[1])); // not http://mockllm:8000
  assert.deepEqual([...mentioned], [version]);
  // A registry push keeps the tag the chart expects.
  for (const [, pushed = ''] of readme.matchAll(/docker push (\S+)/g)) assert.ok(pushed.endsWith(`/mockllm:${version}`), pushed);
});
