import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseConfig } from '../../src/config/load.ts';

// The README's config examples are what users copy: each whole-file example must load.
test('every complete config example in README.md is a valid config', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const configs = blocks.filter((block) => /^(responses|rules|settings):/.test(block));
  assert.ok(configs.length >= 3, `found ${configs.length} config examples`);
  for (const block of configs) assert.doesNotThrow(() => parseConfig(block, 'README.md'), block.slice(0, 80));
});
