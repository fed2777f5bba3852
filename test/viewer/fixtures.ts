// What the viewer API tests feed it: real SDK output (test/traces/sdk-spans.ts) and, for volume,
// synthetic traces written by toOtlp (whose round trip with SDK output is tested in test/traces).
import type { FlatSpan } from '../../src/traces/otlp.js';

/** A trace of `spans` spans on node `node`, starting at `startMs`: a root and children. */
export function syntheticTrace(i: number, startMs: number, spans = 5, node = 'n1'): FlatSpan[] {
  const traceId = (i + 1).toString(16).padStart(32, '0');
  const out: FlatSpan[] = [];
  for (let j = 0; j < spans; j++) {
    const s: FlatSpan = {
      traceId,
      spanId: ((i + 1) * 1000 + j + 1).toString(16).padStart(16, '0'),
      name: j === 0 ? 'raft.election' : 'raft.Raft/RequestVote',
      kind: j === 0 ? 'INTERNAL' : 'CLIENT',
      service: `raft-${node}`,
      nodeId: node,
      startMs: startMs + j,
      endMs: startMs + j + 2,
      attributes: j === 0 ? { 'raft.trace.kind': 'election', 'raft.term': i + 1 } : { 'raft.peer.id': 'n2' },
      events: [],
      links: [],
      status: { code: 'UNSET' },
      resource: { 'service.name': `raft-${node}`, 'service.instance.id': node },
    };
    if (j > 0) s.parentSpanId = out[0].spanId;
    out.push(s);
  }
  return out;
}

export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : Uint8Array.from(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text };
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T; headers: Headers }> {
  const r = await fetch(url);
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T, headers: r.headers };
}
