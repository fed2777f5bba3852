// Reads V8 CPU profiles (node --cpu-prof) and sums self time per function, to say where a node
// spends its time without opening a flame graph.
//   node --import tsx src/bench/cpu-profile.ts FILE.cpuprofile [N]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The top `n` functions by self time, one line each: ms, share, name and where it is. */
export function summarizeProfile(file: string, n = 15): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  const parts = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i] ?? 0;
    const f = byId.get(p.samples[i])?.callFrame;
    if (!f) continue;
    const where = f.url ? `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + us);
    parts.set(component(f.url, f.functionName), (parts.get(component(f.url, f.functionName)) ?? 0) + us);
    total += us;
  }
  const idle = self.get('(idle)') ?? 0;
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  const line = ([k, us]: [string, number]) =>
    `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`;
  return [
    `  ${(total / 1000).toFixed(0)} ms sampled, ${(((total - idle) / total) * 100).toFixed(0)}% busy; by component:`,
    ...[...parts.entries()].sort((a, b) => b[1] - a[1]).map(line),
    '  by function:',
    ...rows.map(
      ([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`,
    ),
  ].join('\n');
}

/** Where a function belongs, for the per-component totals. */
function component(url: string, name: string): string {
  if (!url)
    return /^\((idle|garbage collector|program)\)$/.test(name) ? name : 'native (syscalls: writev, fdatasync, ...)';
  const m = /(?:node_modules\/(@[^/]+\/[^/]+|[^/]+))|dist\/src\/([^/]+)|src\/([^/]+)/.exec(url);
  if (m?.[1])
    return /^(express|router|body-parser|raw-body|iconv-lite|finalhandler|send|qs|type-is|content-type|on-finished|mime-types|depd|debug|encodeurl|escape-html)$/.test(
      m[1],
    )
      ? 'express and its parts'
      : m[1];
  if (m?.[2] || m?.[3]) return `raft-otel ${m[2] ?? m[3]}/`;
  if (url.includes('undici')) return 'fetch (undici)';
  if (/node:_http|node:http/.test(url)) return 'node http';
  if (/node:net|node:internal\/stream|node:stream|node:internal\/webstreams/.test(url))
    return 'node streams and sockets';
  return 'node (other)';
}

/** The summary of the profile a process `pid` wrote into `dir` (CPU.<pid>.cpuprofile, or --cpu-prof's
 *  CPU.<date>.<pid>.<tid>.<seq>.cpuprofile). */
export function topSelfTime(dir: string, pid: number, n = 15): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && f.split('.').includes(String(pid)));
  return file ? summarizeProfile(join(dir, file), n) : `  (no profile from pid ${pid} in ${dir})`;
}

if (process.argv[1]?.endsWith('cpu-profile.ts') && process.argv[2]) {
  console.log(summarizeProfile(process.argv[2], Number(process.argv[3] ?? 20)));
}
