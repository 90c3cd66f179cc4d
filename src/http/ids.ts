import { randomFillSync } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

// Every answer mints one or two ids, and a call into the CSPRNG costs far more than the few bytes
// it returns (10% of a non-stream request's CPU in the benchmark profile): draw them from a pool
// refilled 4 KiB at a time instead.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

function takeRandom(length: number): number {
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += length;
  return start;
}

function randomFrom(alphabet: string, length: number): string {
  const start = takeRandom(length);
  let out = '';
  // 62 and 58 do not divide 256, so modulo skews a few letters slightly; ids only need to be unique.
  for (let i = 0; i < length; i++) out += alphabet[pool[start + i]! % alphabet.length];
  return out;
}

export const alnum = (length: number): string => randomFrom(ALNUM, length);
export const base58 = (length: number): string => randomFrom(BASE58, length);
export const hex = (length: number): string => {
  const bytes = Math.ceil(length / 2);
  const start = takeRandom(bytes);
  return pool.toString('hex', start, start + bytes).slice(0, length);
};
