// `raft-otel viewer` on its own, through the bin: it opens a node's spans.jsonl given with --open,
// refuses bad options before listening, and stops on Ctrl-C.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTraceText } from '../../src/traces/documents.js';
import { BIN, cli } from '../cli/procs.js';
import { releasePorts, reservePorts } from '../support/ports.js';
import { killChild, spawnTracked } from '../support/processes.js';
import { waitUntil } from '../support/wait.js';
import { electionSpans, otlpJsonBody } from '../traces/sdk-spans.js';

const dir = mkdtempSync(join(tmpdir(), 'raft-viewer-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('raft-otel viewer', () => {
  it('opens a spans.jsonl at start and serves it; Ctrl-C stops it', async () => {
    const file = join(dir, 'spans.jsonl');
    const lines = [otlpJsonBody(electionSpans('n1')), otlpJsonBody(electionSpans('n2'))];
    writeFileSync(file, lines.join('\n') + '\n');
    const [port] = await reservePorts(1);
    const p = spawnTracked(process.execPath, [BIN, 'viewer', '--no-data-dir', '--port', String(port), '--open', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitUntil('the viewer to open the file', () => /opened .*spans\.jsonl: 6 spans, 6 new/.test(out), {
        timeoutMs: 30_000,
        context: () => out,
      });
      expect(out).toMatch(new RegExp(`^raft-otel viewer: http://127\\.0\\.0\\.1:${port}`));
      const id = parseTraceText(lines[1])[0].traceId;
      const r = await fetch(`http://127.0.0.1:${port}/api/viewer/traces/${id}`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as unknown[]).length).toBe(3);
      const exited = new Promise<number | null>((ok) => p.once('exit', (code) => ok(code)));
      p.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      await killChild(p);
      releasePorts([port]);
    }
  });

  it('refuses a bad option or an unreadable file, saying what is wrong', async () => {
    const bad = await cli(['viewer', '--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')[0]).toMatch(/^error: --port must be a whole number from 0 to 65535, not "eighty"/);
    const missing = await cli(['viewer', '--no-data-dir', '--port', '0', '--open', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read .*nope\.jsonl \(ENOENT\)/);
  });
});
