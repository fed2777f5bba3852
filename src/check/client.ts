// One client operation against a node's HTTP API, classified the way a linearizability checker
// needs: ok (with its result), failed (certainly not applied: it never reached a leader), or
// unknown (it may or may not have been applied). The load generator uses the same client.
import type { OpKind } from './linearizability.js';

export interface ClientOp {
  kind: OpKind;
  key: string;
  value?: string;
  expected?: string | null;
  consistency?: 'linearizable' | 'lease' | 'stale';
}

export interface Outcome {
  status: 'ok' | 'failed' | 'unknown';
  /** read: the value (null when absent); cas: swapped. */
  result?: string | null;
  swapped?: boolean;
  index?: number;
  /** For errors: the API's error code, or the network error. */
  code?: string;
  node?: string;
  latencyMs: number;
}

/** Error codes that prove a write was not applied. */
const NOT_APPLIED = new Set(['no_leader', 'not_leader', 'leader_unreachable', 'not_committed', 'transfer_in_progress', 'leader_unknown_address']);

export async function perform(http: string, op: ClientOp, timeoutMs = 3000): Promise<Outcome> {
  const t0 = performance.now();
  const path = `/kv/${encodeURIComponent(op.key)}`;
  let res: Response;
  try {
    if (op.kind === 'read') {
      res = await fetch(`http://${http}${path}${op.consistency ? `?consistency=${op.consistency}` : ''}`, { signal: AbortSignal.timeout(timeoutMs) });
    } else {
      const isCas = op.kind === 'cas';
      res = await fetch(`http://${http}${path}${isCas ? '/cas' : ''}`, {
        method: isCas ? 'POST' : 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(isCas ? { expected: op.expected, value: op.value } : { value: op.value }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    }
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    // Refused: the request never reached a node. Anything else: it may have.
    return { status: code === 'ECONNREFUSED' || op.kind === 'read' ? 'failed' : 'unknown', code, latencyMs: performance.now() - t0 };
  }
  const latencyMs = performance.now() - t0;
  const node = res.headers.get('x-raft-forwarded-to') ?? res.headers.get('x-raft-node') ?? undefined;
  let body: any = null;
  try {
    body = await res.json();
  } catch {
    return { status: op.kind === 'read' ? 'failed' : 'unknown', code: `http_${res.status}`, latencyMs, node };
  }
  if (op.kind === 'read') {
    if (res.status === 200) return { status: 'ok', result: body.value, index: body.index, latencyMs, node };
    if (res.status === 404 && body?.error?.code === 'key_not_found') return { status: 'ok', result: null, index: body.error.index, latencyMs, node };
    return { status: 'failed', code: body?.error?.code ?? `http_${res.status}`, latencyMs, node };
  }
  if (res.status === 200) return { status: 'ok', swapped: op.kind === 'cas' ? true : undefined, index: body.index, latencyMs, node };
  if (res.status === 412 && op.kind === 'cas') return { status: 'ok', swapped: false, index: body.index, latencyMs, node };
  const code = body?.error?.code ?? `http_${res.status}`;
  return { status: NOT_APPLIED.has(code) || res.status < 500 ? 'failed' : 'unknown', code, latencyMs, node };
}
