import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkText } from '../../src/engine/reply.ts';

// Found by the text-fidelity property test: the tokenizer's UTF-8 decoder drops a leading U+FEFF.
const TEXTS = ['\uFEFFà̖̗क्षि漢字\r\n 한국어à̖̗', '\uFEFF\uFEFFhi \uFEFF there', `${'x'.repeat(300)}\uFEFF${'y'.repeat(200)}`];

test('token chunking keeps byte-order marks and every other character, cut only between graphemes', () => {
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const text of TEXTS) {
    const chunks = chunkText(text, 'token');
    assert.equal(chunks.join(''), text);
    const boundaries = new Set(Array.from(segmenter.segment(text), (s) => s.index));
    let offset = 0;
    for (const chunk of chunks) {
      assert.ok(boundaries.has(offset), `a chunk starts inside a grapheme at ${offset}`);
      offset += chunk.length;
    }
  }
});
