import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function randomFrom(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 62 and 58 do not divide 256, so modulo skews a few letters slightly; ids only need to be unique.
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

export const alnum = (length: number): string => randomFrom(ALNUM, length);
export const base58 = (length: number): string => randomFrom(BASE58, length);
export const hex = (length: number): string => randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
