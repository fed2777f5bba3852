// One closed-loop load generator for any key/value cluster reached over HTTP (raft-otel's API, or
// etcd's JSON gateway): N clients, each sending one write, waiting for its answer, then the next.
// Only the encoding of a write differs between systems (see `WriteTarget`); the clients, the
// routing (every node in turn, the leader only, the followers only), the keep-alive connections
// and the clock are the same, so the figures compare the clusters and not two load generators.
import { Agent, request as httpRequest } from 'node:http';
import { summarize, type Summary } from '../check/stats.js';

/** How one system takes a write over HTTP/1.1 with a JSON body. */
export interface WriteTarget {
  method: string;
  /** The path and the body of the write of `value` at `key`. Built once per key, before the run. */
  encode(key: string, value: string): { path: string; body: string };
  /** Whether the answer acknowledges the write. */
  ok(status: number, body: string): boolean;
}

/** Keep-alive connections, many per node, shared by every run (opening one per request, or using
 *  `fetch`, would make the generator the bottleneck). */
const agent = new Agent({ keepAlive: true, maxSockets: 512 });

export interface Reply {
  status: number;
  body: string;
}

/** One HTTP request; rejects on a network error or after `timeoutMs`. */
export function send(
  hostPort: string,
  method: string,
  path: string,
  body: string | undefined,
  timeoutMs: number,
): Promise<Reply> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: hostPort.slice(0, i),
        port: Number(hostPort.slice(i + 1)),
        method,
        path,
        headers:
          body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${hostPort} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** One write; true when acknowledged. Never throws. */
export async function writeOnce(
  target: WriteTarget,
  hostPort: string,
  key: string,
  value: string,
  timeoutMs: number,
): Promise<boolean> {
  const { path, body } = target.encode(key, value);
  try {
    const r = await send(hostPort, target.method, path, body, timeoutMs);
    return target.ok(r.status, r.body);
  } catch {
    return false;
  }
}

export interface ClosedLoopOptions {
  target: WriteTarget;
  /** The nodes each client sends to, in turn (client c starts at node c mod n). */
  nodes: string[];
  clients: number;
  durationMs: number;
  valueBytes: number;
  keys: number;
  timeoutMs?: number;
}

export interface ClosedLoopResult {
  clients: number;
  seconds: number;
  acknowledged: number;
  failed: number;
  /** Failed requests by what went wrong (HTTP status and error code, or the network error). */
  errors: Record<string, number>;
  throughput: number;
  latency: Summary;
}

export async function closedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const value = 'x'.repeat(o.valueBytes);
  // Every request body is made before the clock starts: the generator does no encoding while it runs.
  const requests = Array.from({ length: o.keys }, (_, k) => o.target.encode(`bench-${k}`, value));
  const latencies: number[] = [];
  let failed = 0;
  const errors: Record<string, number> = {};
  const note = (what: string) => (errors[what] = (errors[what] ?? 0) + 1);
  let running = true;
  const timeoutMs = o.timeoutMs ?? 5000;
  const client = async (c: number) => {
    let n = c;
    while (running) {
      const node = o.nodes[n % o.nodes.length];
      const { path, body } = requests[(c * 7919 + n) % o.keys];
      n++;
      const t0 = performance.now();
      let ok: boolean;
      try {
        const r = await send(node, o.target.method, path, body, timeoutMs);
        ok = o.target.ok(r.status, r.body);
        if (!ok) note(`HTTP ${r.status} ${/"code":\s*"?([\w.]+)/.exec(r.body)?.[1] ?? ''}`.trim());
      } catch (e) {
        ok = false;
        note((e as Error).message.replace(/\d+/g, 'N'));
      }
      if (!running) break;
      if (ok) latencies.push(performance.now() - t0);
      else {
        failed++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const all = Array.from({ length: o.clients }, (_, c) => client(c));
  await new Promise((r) => setTimeout(r, o.durationMs));
  running = false;
  await Promise.all(all);
  const seconds = o.durationMs / 1000;
  return {
    clients: o.clients,
    seconds,
    acknowledged: latencies.length,
    failed,
    errors,
    throughput: latencies.length / seconds,
    latency: summarize(latencies),
  };
}
