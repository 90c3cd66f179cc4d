// Summarises a V8 .cpuprofile (from `npm run bench -- --profile`, or node --cpu-prof): the top
// functions by self time, the top by inclusive time, and self time by package/source file; with
// --tree, the call tree top-down instead (callers merged by function, nodes under --min percent of
// busy time left out; --match roots it at the functions whose name or file contains the substring).
//   node bench/profile-summary.ts <file.cpuprofile> [topN] [--match substring] [--tree [--min 0.5]]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { match: { type: 'string' }, tree: { type: 'boolean' }, min: { type: 'string' } } });
const [file, topText = '25'] = positionals;
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [topN] [--match substring]');
const top = Number(topText);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

// Sample time per node (µs), from the sample stream (more exact than hitCount × interval).
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idleIds = new Set(profile.nodes.filter((n) => ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName)).map((n) => n.id));
const idle = [...idleIds].filter((id) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((s, id) => s + (selfUs.get(id) ?? 0), 0);
const busy = total - idle;

const shortUrl = (url: string) => {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 13);
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
};
const key = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const pkg = (n: ProfileNode) => {
  const url = n.callFrame.url;
  if (!url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node: (core)';
  return shortUrl(url);
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  self.set(key(node), (self.get(key(node)) ?? 0) + us);
  byPkg.set(pkg(node), (byPkg.get(pkg(node)) ?? 0) + us);
  // Each function once per stack, however deep its recursion.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const k = key(byId.get(at)!);
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
}
const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;

if (values.tree) {
  // Inclusive time per node, then children merged by function so each caller shows one line per callee.
  const total = new Map<number, number>();
  const sum = (id: number): number => {
    let t = selfUs.get(id) ?? 0;
    for (const child of byId.get(id)!.children ?? []) t += sum(child);
    total.set(id, t);
    return t;
  };
  sum(profile.nodes[0]!.id);
  const min = (Number(values.min ?? '0.5') / 100) * busy;
  const print = (ids: number[], depth: number) => {
    const groups = new Map<string, number[]>();
    for (const id of ids) {
      for (const child of byId.get(id)!.children ?? []) {
        const k = key(byId.get(child)!);
        if (!groups.has(k)) groups.set(k, []);
        groups.get(k)!.push(child);
      }
    }
    const rows = [...groups].map(([k, group]) => ({ k, group, us: group.reduce((s, c) => s + total.get(c)!, 0), self: group.reduce((s, c) => s + (selfUs.get(c) ?? 0), 0) }));
    for (const row of rows.sort((a, b) => b.us - a.us)) {
      if (row.us < min || row.k.startsWith('(idle)')) continue;
      console.log(`${pct(row.us)} (self ${pct(row.self).trim()})  ${'  '.repeat(depth)}${row.k}`);
      print(row.group, depth + 1);
    }
  };
  console.log(`${file}: ${(busy / 1e6).toFixed(1)} s busy; call tree, nodes from ${values.min ?? '0.5'}% of busy time`);
  const roots = values.match ? profile.nodes.filter((n) => key(n).includes(values.match!)).map((n) => n.id) : [profile.nodes[0]!.id];
  if (values.match) console.log(`${pct(roots.reduce((s, id) => s + total.get(id)!, 0))}  ${values.match}`);
  print(roots, values.match ? 1 : 0);
  process.exit(0);
}
const print = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  const entries = [...map.entries()].filter(([k]) => !k.startsWith('(idle)') && (!values.match || k.includes(values.match)));
  for (const [k, us] of entries.sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)`);
print('self time by function', self, top);
print('inclusive time by function', inclusive, top);
print('self time by package / file', byPkg, top);
