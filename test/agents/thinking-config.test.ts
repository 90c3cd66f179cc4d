// The config's thinking, usage and prompt_cache fields: where they are allowed, and what the file
// check says when one is misplaced (a line-numbered message, as for any other field).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';

const FILE = 'responses.yml';

function problems(text: string): string {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('thinking and usage fields in the config', () => {
  test('thinking on a text answer, on a tool-call answer and on each step of a sequence loads', () => {
    const text = `settings: { prompt_cache: true }
rules:
  - match: { contains: a }
    response: { thinking: "Plan {{prompt}}.", redacted: true, text: "A." }
  - match: { contains: b }
    response: { thinking: "Call it.", tool_calls: [{ name: t }], usage: { cache_read_input_tokens: 10, cache_creation_input_tokens: 5, reasoning_tokens: 3 } }
  - match: { contains: c }
    response:
      sequence:
        - { thinking: "Step one.", tool_calls: [{ name: t }] }
        - { thinking: "Step two.", text: "Done." }
`;
    assert.equal(problems(text), '');
  });

  test('redacted without thinking, thinking on an error or on a whole sequence are refused with their path', () => {
    assert.match(problems('rules:\n  - match: {}\n    response: { redacted: true, text: "x" }\n'), /rules\.0\.response\.redacted.*only applies with thinking/);
    assert.match(problems('rules:\n  - match: {}\n    response: { thinking: "x", error: { status: 500 } }\n'), /rules\.0\.response\.thinking.*does not apply to an error/);
    assert.match(problems('rules:\n  - match: {}\n    response: { thinking: "x", sequence: ["a"] }\n'), /rules\.0\.response\.thinking.*does not apply to a sequence/);
  });

  test('negative cache figures and a prompt_cache that is not a boolean are refused', () => {
    assert.match(problems('rules:\n  - match: {}\n    response: { text: "x", usage: { cache_read_input_tokens: -1 } }\n'), /cache_read_input_tokens/);
    assert.match(problems('settings: { prompt_cache: "yes" }\nresponses: {}\n'), /prompt_cache/);
  });
});
