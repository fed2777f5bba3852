// The dependency rules of the design, held by reading the sources' imports: the consensus core
// imports nothing outside itself, no module imports itself back through others (type-only imports
// included: a cycle of types is still two modules that cannot be understood apart), and the HTTP
// API reaches its node only through the node's surface.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** Every module specifier a file imports or re-exports from. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s+['"]([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]);
  return found;
}

/** The source file a relative specifier names. */
const target = (from: string, spec: string) => resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
const rel = (f: string) => relative(SRC, f);

const files = sources(SRC);
const graph = new Map(
  files.map(
    (f) =>
      [
        f,
        specifiers(f)
          .filter((s) => s.startsWith('.'))
          .map((s) => target(f, s)),
      ] as const,
  ),
);

describe('architecture', () => {
  it('finds the sources it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(graph.get(join(SRC, 'node/node.ts'))).toContain(join(SRC, 'raft/driver.ts'));
  });

  it('src/raft imports nothing outside itself', () => {
    const outside = files
      .filter((f) => rel(f).startsWith('raft/'))
      .flatMap((f) =>
        specifiers(f)
          .filter((s) => !s.startsWith('./'))
          .map((s) => `${rel(f)} imports ${s}`),
      );
    expect(outside).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].map(rel).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('src/api reaches the node only through its surface (and its error types)', () => {
    const allowed = new Set([join(SRC, 'node/surface.ts'), join(SRC, 'node/errors.ts')]);
    const reached = files
      .filter((f) => rel(f).startsWith('api/'))
      .flatMap((f) =>
        (graph.get(f) ?? [])
          .filter((t) => rel(t).startsWith('node/') && !allowed.has(t))
          .map((t) => `${rel(f)} -> ${rel(t)}`),
      );
    expect(reached).toEqual([]);
  });
});
