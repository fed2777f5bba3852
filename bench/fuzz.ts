// Fuzzes a real 3-node cluster on loopback through both of its doors: the HTTP API (malformed
// paths, percent-encodings, bodies, charsets, encodings, headers, internal headers) and the peer
// gRPC port (forged messages without the secret, with a wrong one, raw bytes that are not
// protobuf, and messages from a holder of the secret that the core cannot represent). First it
// writes N keys and keeps their acknowledgements; at the end it reads every one back from every
// node. It prints a status histogram, the crashes (node processes that exited), the hangs (calls
// that reached their deadline) and the acknowledged writes that were lost.
//
//   npm run fuzz                                  10,000 inputs, at most 180 s
//   npm run fuzz -- --inputs 20000 --seconds 300 --seed 7 --keys 200 --concurrency 16
//
// Bounded in count and time; loopback only (the cluster is started here, on 127.0.0.1).
import { Client, credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { Rng } from '../src/sim/rng.js';
import { raftProto } from '../src/transport/proto.js';
import { FROM_HEADER, SECRET_HEADER } from '../src/transport/peer-auth.js';
import { TestCluster, type TestNode } from '../test/cluster/harness.js';

export interface FuzzOptions {
  inputs: number;
  seconds: number;
  seed: number;
  keys: number;
  concurrency: number;
  log?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  sent: number;
  elapsedMs: number;
  http: Record<string, number>;
  grpc: Record<string, number>;
  /** HTTP 500s and other answers that are bugs, with what caused them (the first few). */
  serverErrors: string[];
  serverErrorCount: number;
  hangs: string[];
  crashes: string[];
  lost: string[];
  /** gRPC calls that a peer without the cluster secret got anything but UNAUTHENTICATED for. */
  unauthenticatedAccepted: string[];
}

const HTTP_TIMEOUT_MS = 10_000;
const GRPC_TIMEOUT_MS = 5_000;

// ---- HTTP inputs -------------------------------------------------------------------------------

const NASTY_KEYS = [
  '%zz',
  '%ff',
  '%C0%AE',
  '%',
  '%2',
  '%00',
  '%2F',
  '..',
  '%2e%2e',
  '%E2%82',
  '%F0%9F%98%80',
  'a%20b',
  '\u00e9t\u00e9',
  '',
];

function fuzzKey(rng: Rng): string {
  switch (rng.int(0, 4)) {
    case 0:
      return rng.pick(NASTY_KEYS);
    case 1:
      return 'f' + 'x'.repeat(rng.pick([1, 100, 511, 513, 2000]));
    case 2:
      return 'f' + rng.pick(NASTY_KEYS) + rng.int(0, 99);
    default:
      return `f${rng.int(0, 50)}`;
  }
}

function fuzzBody(rng: Rng): string | Buffer | undefined {
  switch (rng.int(0, 11)) {
    case 0:
      return undefined;
    case 1:
      return '';
    case 2:
      return '{"value":';
    case 3:
      return JSON.stringify({ value: 'x'.repeat(rng.pick([10, 70_000, 140_000])) });
    case 4:
      return JSON.stringify({ value: rng.pick([null, 1, true, [], {}, 'ok']) });
    case 5:
      return '['.repeat(rng.pick([10, 5000])) + ']'.repeat(10);
    case 6:
      return JSON.stringify({ expected: rng.pick([null, 'a', 3]), value: 'v' });
    case 7:
      return JSON.stringify({ owner: rng.pick(['a', '', 7]), ttlMs: rng.pick([1000, -1, 1e12, 'x']), token: 3 });
    case 8:
      return Buffer.from(Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 255)));
    case 9:
      return JSON.stringify({ id: rng.pick(['n1', 'n2', 'n3']), grpc: '127.0.0.1:1', http: '127.0.0.1:2' });
    case 10:
      return '\ufeff{"value":"bom"}';
    default:
      return JSON.stringify({ value: `v${rng.int(0, 1e6)}` });
  }
}

interface HttpInput {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

function httpInput(rng: Rng): HttpInput {
  const key = fuzzKey(rng);
  const path = rng.pick([
    `/kv/${key}`,
    `/kv/${key}`,
    `/kv/${key}/cas`,
    `/locks/${key}/acquire`,
    `/locks/${key}/renew`,
    `/locks/${key}/release`,
    `/kv/${key}?consistency=${rng.pick(['linearizable', 'lease', 'stale', 'bogus', '%zz'])}&maxStalenessMs=${rng.pick(['10', '-1', 'x', '1e400'])}`,
    '/status',
    '/admin/members/add', // with an existing member's id: must be refused, changing nothing
    `/${key}`,
  ]);
  const method = path === '/admin/members/add' ? 'POST' : rng.pick(['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD']);
  const headers: Record<string, string> = {};
  headers['content-type'] = rng.pick([
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=koi8-r',
    'application/json; charset=bogus',
    'text/plain',
    'multipart/form-data; boundary=x',
  ]);
  let body = method === 'GET' || method === 'HEAD' ? undefined : fuzzBody(rng);
  if (path === '/admin/members/add')
    body = JSON.stringify({ id: rng.pick(['n1', 'n2', 'n3']), grpc: '127.0.0.1:1', http: '127.0.0.1:2' });
  if (body !== undefined && rng.chance(0.15)) {
    const enc = rng.pick(['gzip', 'gzip-real', 'deflate', 'br', 'identity', 'bogus', 'gzip, gzip']);
    if (enc === 'gzip-real') {
      headers['content-encoding'] = 'gzip';
      body = gzipSync(body);
    } else headers['content-encoding'] = enc;
  }
  if (rng.chance(0.1)) headers['idempotency-key'] = rng.pick(['', 'k', 'x'.repeat(300), `i${rng.int(0, 99)}`]);
  if (rng.chance(0.1))
    headers['x-fencing-token'] = rng.pick(['', 'a:1', 'a:-1', 'a', ':', 'a:1e999', 'a:9007199254740993']);
  if (rng.chance(0.1)) headers['x-raft-forwarded-by'] = rng.pick(['n1', 'n2', 'n3', 'zz']);
  if (rng.chance(0.05)) headers['x-raft-forward-proof'] = 'f'.repeat(64);
  return { method, path, headers, body };
}

// ---- gRPC inputs -------------------------------------------------------------------------------

type Method = 'RequestVote' | 'AppendEntries' | 'InstallSnapshot' | 'TimeoutNow' | 'ReadIndex';
const METHODS: Method[] = ['RequestVote', 'AppendEntries', 'InstallSnapshot', 'TimeoutNow', 'ReadIndex'];
const BIG = [
  0,
  1,
  2,
  1000,
  2 ** 31,
  2 ** 32,
  2 ** 52,
  2 ** 52 + 1,
  Number.MAX_SAFE_INTEGER - 1,
  Number.MAX_SAFE_INTEGER,
];

function grpcRequest(rng: Rng, to: string, term: number): Record<string, unknown> {
  const t = rng.chance(0.5) ? term + rng.int(0, 2) : rng.pick(BIG);
  const header = {
    clusterId: rng.pick(['raft-otel', 'raft-otel', 'other']),
    from: rng.pick(['zz', 'n1', 'n2', 'n3', '']),
    to: rng.chance(0.9) ? to : 'n9',
    term: t,
  };
  const entries = Array.from({ length: rng.pick([0, 0, 1, 3]) }, (_, i) => ({
    index: rng.chance(0.8) ? i + 1 : rng.pick(BIG),
    term: rng.chance(0.8) ? t : rng.pick(BIG),
    type: rng.pick(['normal', 'noop', 'config', 'evil']),
    data: rng.pick(['{"op":"put","key":"ack-0","value":"forged"}', '{"type":"remove","node":"n1"}', 'garbage']),
    context: '',
  }));
  return {
    header,
    lastLogIndex: rng.pick(BIG),
    lastLogTerm: rng.pick(BIG),
    preVote: rng.chance(0.5),
    transfer: rng.chance(0.2),
    prevLogIndex: rng.pick(BIG),
    prevLogTerm: rng.pick(BIG),
    entries,
    leaderCommit: rng.pick(BIG),
    seq: rng.int(0, 1000),
    heartbeat: rng.chance(0.5),
    snapshot: { index: rng.pick(BIG), term: t, conf: { voters: ['zz'], learners: [] }, data: '[]' },
    requestId: `r${rng.int(0, 1e6)}`,
  };
}

/** A request a holder of the secret might send by mistake: a shape the core must refuse. */
function malformedFromMember(rng: Rng, to: string, from: string): Record<string, unknown> {
  const bad = rng.pick([2 ** 52 + 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1]);
  return {
    header: { clusterId: 'raft-otel', from, to, term: bad },
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [],
    leaderCommit: 0,
    seq: 1,
    heartbeat: true,
    lastLogIndex: 0,
    lastLogTerm: 0,
    snapshot: { index: bad, term: bad, conf: { voters: [from], learners: [] }, data: '[]' },
    requestId: 'r',
  };
}

// ---- the run -----------------------------------------------------------------------------------

function bump(h: Record<string, number>, k: string): void {
  h[k] = (h[k] ?? 0) + 1;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? ((l: string) => console.log(l));
  const rng = new Rng(o.seed);
  log(
    `fuzz: seed ${o.seed}, ${o.inputs} inputs, at most ${o.seconds} s, ${o.keys} acknowledged keys, ${o.concurrency} in flight`,
  );
  const c = await TestCluster.start(3);
  const report: FuzzReport = {
    seed: o.seed,
    sent: 0,
    elapsedMs: 0,
    http: {},
    grpc: {},
    serverErrors: [],
    serverErrorCount: 0,
    hangs: [],
    crashes: [],
    lost: [],
    unauthenticatedAccepted: [],
  };
  const Ctor = raftProto().raft.Raft;
  const clients = new Map<string, { typed: InstanceType<typeof Ctor>; raw: Client }>();
  for (const n of c.nodes)
    clients.set(n.id, {
      typed: new Ctor(n.grpc, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }),
      raw: new Client(n.grpc, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }),
    });
  try {
    // 1. Acknowledged writes to check at the end.
    const leader = await c.waitForLeader();
    const acked = new Map<string, string>();
    for (let i = 0; i < o.keys; i++) {
      const r = await c.put(leader, `ack-${i}`, `v${i}`);
      if (r.status === 200) acked.set(`ack-${i}`, `v${i}`);
    }
    log(`fuzz: ${acked.size} acknowledged writes before the fuzzing`);
    const term = ((await c.status(leader)) as { term: number }).term;

    // 2. The inputs.
    const t0 = Date.now();
    const deadline = t0 + o.seconds * 1000;
    const one = async (i: number): Promise<void> => {
      const r = rng.fork();
      const node = c.nodes[i % c.nodes.length];
      if (r.chance(0.6)) await oneHttp(r, node, report);
      else await oneGrpc(r, node, term, c.secret, clients.get(node.id)!, report);
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < o.inputs && Date.now() < deadline) {
          const i = next++;
          await one(i);
          report.sent++;
        }
      }),
    );
    report.elapsedMs = Date.now() - t0;

    // 3. Crashes, then every acknowledged write on every node.
    for (const n of c.nodes) {
      if (!n.proc || n.proc.exitCode !== null || n.proc.signalCode !== null)
        report.crashes.push(`${n.id} exited (${n.proc?.exitCode ?? n.proc?.signalCode ?? 'gone'})`);
      if (/"level":"error"|Uncaught|unhandled/i.test(c.log(n)))
        report.crashes.push(
          `${n.id} logged an error: ${/.*("level":"error"|Uncaught|unhandled).*/i.exec(c.log(n))?.[0]}`,
        );
    }
    await c.waitForLeader(20_000);
    for (const n of c.nodes) {
      if (!n.proc) continue;
      for (const [k, v] of acked) {
        let got: { status: number; body: { value?: string } | null } = { status: 0, body: null };
        for (let attempt = 0; attempt < 20; attempt++) {
          got = await c.get(n, k);
          if (got.status !== 503) break;
          await new Promise((res) => setTimeout(res, 250));
        }
        if (got.status !== 200 || got.body?.value !== v)
          report.lost.push(`${n.id} ${k}: ${got.status} ${JSON.stringify(got.body)}`);
      }
    }
  } finally {
    for (const cl of clients.values()) {
      cl.typed.close();
      cl.raw.close();
    }
    await c.stop();
  }
  return report;
}

async function oneHttp(rng: Rng, node: TestNode, report: FuzzReport): Promise<void> {
  const input = httpInput(rng);
  try {
    const res = await fetch(`http://${node.http}${input.path}`, {
      method: input.method,
      headers: input.headers,
      body: Buffer.isBuffer(input.body) ? new Uint8Array(input.body) : input.body,
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    const text = await res.text();
    bump(report.http, String(res.status));
    // 503/504 are documented answers (no leader, outcome unknown); any other 5xx is a bug.
    if (res.status >= 500 && res.status !== 503 && res.status !== 504) {
      report.serverErrorCount++;
      if (report.serverErrors.length < 10)
        report.serverErrors.push(
          `${res.status} ${input.method} ${input.path} ${JSON.stringify(input.headers)} -> ${text.slice(0, 160)}`,
        );
    }
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'TimeoutError') {
      bump(report.http, 'timeout');
      report.hangs.push(`HTTP ${input.method} ${input.path} to ${node.id}`);
    } else bump(report.http, `error:${(e as { cause?: { code?: string } }).cause?.code ?? name}`);
  }
}

async function oneGrpc(
  rng: Rng,
  node: TestNode,
  term: number,
  secret: string,
  cl: { typed: unknown; raw: Client },
  report: FuzzReport,
): Promise<void> {
  const method = rng.pick(METHODS);
  const mode = rng.pick(['none', 'none', 'none', 'wrong', 'raw', 'raw', 'member']);
  const md = new Metadata();
  const from = rng.pick(['zz', 'n1', 'n2', 'n3']);
  md.set(FROM_HEADER, from);
  if (mode === 'wrong') md.set(SECRET_HEADER, 'wrong-secret-0123456789abcdef');
  if (mode === 'member') md.set(SECRET_HEADER, secret);
  const deadline = new Date(Date.now() + GRPC_TIMEOUT_MS);
  const err = await new Promise<ServiceError | null>((resolve) => {
    if (mode === 'raw') {
      const size = rng.pick([0, 1, 7, 100, 10_000, 2_000_000]);
      const body = Buffer.from(Array.from({ length: Math.min(size, 4096) }, () => rng.int(0, 255)));
      cl.raw.makeUnaryRequest(
        `/raft.Raft/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        size > 4096 ? Buffer.concat([body, Buffer.alloc(size - 4096, 0xff)]) : body,
        md,
        { deadline },
        (e) => resolve(e),
      );
      return;
    }
    const req = mode === 'member' ? malformedFromMember(rng, node.id, from) : grpcRequest(rng, node.id, term);
    const fn = (
      cl.typed as Record<
        Method,
        (r: unknown, m: Metadata, o: { deadline: Date }, cb: (e: ServiceError | null) => void) => void
      >
    )[method].bind(cl.typed);
    fn(req, md, { deadline }, (e) => resolve(e));
  });
  const code = grpcStatus[err?.code ?? grpcStatus.OK];
  bump(report.grpc, `${mode === 'member' ? 'member' : 'stranger'} ${code}`);
  if (err?.code === grpcStatus.DEADLINE_EXCEEDED) report.hangs.push(`gRPC ${method} (${mode}) to ${node.id}`);
  if (mode !== 'member' && err?.code !== grpcStatus.UNAUTHENTICATED && report.unauthenticatedAccepted.length < 10)
    report.unauthenticatedAccepted.push(`${method} (${mode}) to ${node.id}: ${code} ${err?.details ?? ''}`);
  if (mode === 'member' && err?.code !== grpcStatus.INVALID_ARGUMENT && report.serverErrors.length < 10) {
    report.serverErrorCount++;
    report.serverErrors.push(
      `member ${method} with an unrepresentable term to ${node.id}: ${code} ${err?.details ?? ''}`,
    );
  }
}

export function formatReport(r: FuzzReport): string {
  const hist = (h: Record<string, number>) =>
    Object.entries(h)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `    ${k.padEnd(28)} ${n}`)
      .join('\n');
  const list = (xs: string[]) => (xs.length ? xs.map((x) => `    ${x}`).join('\n') : '    none');
  return [
    `fuzz seed ${r.seed}: ${r.sent} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  HTTP status histogram (${Object.values(r.http).reduce((a, b) => a + b, 0)} requests):`,
    hist(r.http),
    `  gRPC status histogram (${Object.values(r.grpc).reduce((a, b) => a + b, 0)} calls; "stranger" = no or a wrong secret):`,
    hist(r.grpc),
    `  server errors (HTTP 5xx other than 503/504, or a member's unrepresentable term not refused): ${r.serverErrorCount}`,
    list(r.serverErrors),
    `  stranger calls not refused as UNAUTHENTICATED: ${r.unauthenticatedAccepted.length}`,
    list(r.unauthenticatedAccepted),
    `  crashes: ${r.crashes.length}`,
    list(r.crashes),
    `  hangs (calls that reached their deadline): ${r.hangs.length}`,
    list(r.hangs.slice(0, 10)),
    `  lost acknowledged writes: ${r.lost.length}`,
    list(r.lost.slice(0, 10)),
  ].join('\n');
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  const { values } = parseArgs({
    options: {
      inputs: { type: 'string', default: '10000' },
      seconds: { type: 'string', default: '180' },
      seed: { type: 'string' },
      keys: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '16' },
    },
  });
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const report = await runFuzz({
    inputs: Number(values.inputs),
    seconds: Number(values.seconds),
    seed,
    keys: Number(values.keys),
    concurrency: Number(values.concurrency),
  });
  console.log(formatReport(report));
  const bad =
    report.crashes.length +
    report.hangs.length +
    report.lost.length +
    report.serverErrorCount +
    report.unauthenticatedAccepted.length;
  process.exitCode = bad ? 1 : 0;
}
