// Deterministic embedding vectors, shared by every provider's embeddings endpoint: the same model
// and text always give the same unit vector, so similarity tests are reproducible.
import { createHash } from 'node:crypto';

/**
 * The generated vector: SHA-256 of `model`, a 0 byte and `text` (UTF-8) seeds sfc32 with its first
 * 16 bytes read as four little-endian uint32; component i is 2·u − 1 for the i-th draw u = x / 2³²;
 * the vector is scaled to unit length and each component rounded to float32. A shorter `dimensions`
 * takes the first draws, so a shortened vector is a prefix of the full one, renormalised.
 */
export function generatedEmbedding(model: string, text: string, dimensions: number): number[] {
  const seed = createHash('sha256').update(model, 'utf8').update(Buffer.from([0])).update(text, 'utf8').digest();
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  const raw = new Float64Array(dimensions);
  let sumOfSquares = 0;
  for (let i = 0; i < dimensions; i++) {
    // sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 32-bit arithmetic throughout.
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    const x = ((t >>> 0) / 4294967296) * 2 - 1;
    raw[i] = x;
    sumOfSquares += x * x;
  }
  const norm = Math.sqrt(sumOfSquares);
  const vector = new Array<number>(dimensions);
  for (let i = 0; i < dimensions; i++) vector[i] = Math.fround(raw[i]! / norm);
  return vector;
}
