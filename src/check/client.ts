// One client operation against a node's HTTP API, classified the way a linearizability checker
// needs: ok (with its result), failed (certainly not applied: it never reached a leader), or
// unknown (it may or may not have been applied). The load generator uses the same client.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { OpKind } from './linearizability.js';

export interface ClientOp {
  kind: OpKind;
  key: string;
  value?: string;
  expected?: string | null;
  consistency?: 'linearizable' | 'lease' | 'stale';
  /** For a stale read: how old the node's news from its leader may be (the API requires a bound;
   *  without one, DEFAULT_MAX_STALENESS_MS). */
  maxStalenessMs?: number;
}

/** The staleness bound of a stale read that names none (`bench --consistency stale`). */
export const DEFAULT_MAX_STALENESS_MS = 1000;

/** The query string of a read with this consistency ('' for the default, linearizable). */
export function readQuery(op: Pick<ClientOp, 'consistency' | 'maxStalenessMs'>): string {
  if (!op.consistency) return '';
  const bound = op.consistency === 'stale' ? `&maxStalenessMs=${op.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS}` : '';
  return `?consistency=${op.consistency}${bound}`;
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
const NOT_APPLIED = new Set([
  'no_leader',
  'not_leader',
  'leader_unreachable',
  'not_committed',
  'transfer_in_progress',
  'leader_unknown_address',
]);

/** Keep-alive connections, many per node: a fresh TCP connection per request (or Node's fetch,
 *  which costs about 1 ms of CPU per request) would make the client the bottleneck. */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** The parts of a node's JSON answer the checker reads (the README's HTTP API). */
interface ApiReply {
  value?: string;
  index?: number;
  error?: { code?: string; index?: number };
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function request(
  http: string,
  method: string,
  path: string,
  body: string | undefined,
  timeoutMs: number,
): Promise<RawResponse> {
  const i = http.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: http.slice(0, i),
        port: Number(http.slice(i + 1)),
        method,
        path,
        headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

export async function perform(http: string, op: ClientOp, timeoutMs = 3000): Promise<Outcome> {
  const t0 = performance.now();
  const path = `/kv/${encodeURIComponent(op.key)}`;
  let res: RawResponse;
  try {
    if (op.kind === 'read') res = await request(http, 'GET', `${path}${readQuery(op)}`, undefined, timeoutMs);
    else {
      const isCas = op.kind === 'cas';
      const body = JSON.stringify(isCas ? { expected: op.expected, value: op.value } : { value: op.value });
      res = await request(http, isCas ? 'POST' : 'PUT', `${path}${isCas ? '/cas' : ''}`, body, timeoutMs);
    }
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).name;
    // Refused: the request never reached a node. Anything else: it may have.
    return {
      status: code === 'ECONNREFUSED' || op.kind === 'read' ? 'failed' : 'unknown',
      code,
      latencyMs: performance.now() - t0,
    };
  }
  const latencyMs = performance.now() - t0;
  const header = (h: string) => {
    const v = res.headers[h];
    return Array.isArray(v) ? v[0] : v;
  };
  const node = header('x-raft-forwarded-to') ?? header('x-raft-node');
  let body: ApiReply;
  try {
    body = JSON.parse(res.body) as ApiReply;
  } catch {
    return { status: op.kind === 'read' ? 'failed' : 'unknown', code: `http_${res.status}`, latencyMs, node };
  }
  if (op.kind === 'read') {
    if (res.status === 200) return { status: 'ok', result: body.value, index: body.index, latencyMs, node };
    if (res.status === 404 && body.error?.code === 'key_not_found')
      return { status: 'ok', result: null, index: body.error.index, latencyMs, node };
    return { status: 'failed', code: body.error?.code ?? `http_${res.status}`, latencyMs, node };
  }
  if (res.status === 200)
    return { status: 'ok', swapped: op.kind === 'cas' ? true : undefined, index: body.index, latencyMs, node };
  if (res.status === 412 && op.kind === 'cas')
    return { status: 'ok', swapped: false, index: body.index, latencyMs, node };
  const code = body.error?.code ?? `http_${res.status}`;
  return { status: NOT_APPLIED.has(code) || res.status < 500 ? 'failed' : 'unknown', code, latencyMs, node };
}
