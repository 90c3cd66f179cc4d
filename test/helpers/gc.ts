// A real garbage collection on demand, without `node --expose-gc` on the command line (npm test
// does not pass it): the flag set at run time exposes `gc` to a new V8 context
// (https://nodejs.org/api/v8.html#v8setflagsfromstringflags).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcOnce = runInNewContext('gc') as () => void;

/** Collects garbage (twice: the first pass can leave weakly held objects for the second). */
export function collectGarbage(): void {
  gcOnce();
  gcOnce();
}
