// `raft-otel sim --seed S --export FILE`: the run's traces as one OTLP JSON request, one resource
// per node, stamped from the fixed epoch, the same bytes for the same seed; a file that cannot be
// written is a clear error, not a crash.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { simCommand } from '../../src/cli/sim.js';
import { SIM_EPOCH_MS } from '../../src/telemetry/sim-tracing.js';

interface OtlpJson {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { name: string; startTimeUnixNano: string; traceId: string }[] }[];
  }[];
}

const dir = mkdtempSync(join(tmpdir(), 'sim-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: simCommand(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('sim --export', () => {
  it("writes a seed's traces as OTLP JSON, the same file for the same seed", () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    const first = run(['--seed', '5', '--quiet', '--fault-ms', '1500', '--settle-ms', '2500', '--export', a]);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/wrote \d+ spans in \d+ traces to /);
    run(['--seed', '5', '--quiet', '--fault-ms', '1500', '--settle-ms', '2500', '--export', b]);
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));

    const doc = JSON.parse(readFileSync(a, 'utf8')) as OtlpJson;
    const services = doc.resourceSpans.map(
      (r) => r.resource.attributes.find((x) => x.key === 'service.name')?.value.stringValue,
    );
    expect(services).toEqual(expect.arrayContaining(['raft-n1', 'raft-n2', 'raft-n3']));
    const spans = doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['raft.election', 'raft.propose', 'raft.apply']));
    // Virtual time on the fixed epoch: every span within the run's 4 virtual seconds of it.
    const ms = spans.map((s) => Number(BigInt(s.startTimeUnixNano) / 1_000_000n) - SIM_EPOCH_MS);
    expect(Math.min(...ms)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ms)).toBeLessThanOrEqual(4000);
  });

  it('says so when the file cannot be written', () => {
    const r = run([
      '--seed',
      '5',
      '--quiet',
      '--fault-ms',
      '200',
      '--settle-ms',
      '1500',
      '--export',
      join(dir, 'no/such/dir/x.json'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot write .*x\.json/);
  });
});
