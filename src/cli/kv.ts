// `raft-otel kv`: get, put, del or cas a key through the local cluster's API.
import { parseArgs } from 'node:util';
import { keyProblem } from '../kv/commands.js';
import { NODE_OPTIONS } from '../node/config.js';
import { CLUSTER_OPTIONS, common, help, openCluster, out, someNode, type CommonValues } from './common.js';
import { DEFAULT_VIEWER_PORT, runningViewerUrl, traceLink } from '../viewer/server/info.js';
import { apiError, call, type HttpResult } from './http.js';

export const kvHelp = `raft-otel kv get KEY [--consistency linearizable|lease|stale] [--max-staleness-ms N]
raft-otel kv put KEY VALUE
raft-otel kv del KEY
raft-otel kv cas KEY EXPECTED NEW      (EXPECTED "-" means "absent")

get prints the value and the index it was read at: the node's applied log index when it answered.
Every write acknowledged with an index at or below it is visible in the answer (a linearizable
read waits until the node has applied everything the leader had committed when the read began).

Options: --node ID (send to this node; default: the leader), --json, --data-dir DIR,
  --fencing-token LOCK:T (refused with 409 if a newer holder of LOCK exists),
  --idempotency-key K (a retry with the same key is applied once and gets the first answer)
${CLUSTER_OPTIONS}
A write prints a link to its trace in the built-in viewer when one runs for this data dir (\`up\`
starts it): http://127.0.0.1:8000/#/trace/<trace id>.
`;

/** How long a node waits for a write to commit unless RAFT_REQUEST_TIMEOUT_MS says otherwise. */
const DEFAULT_REQUEST_TIMEOUT_MS = Number(NODE_OPTIONS.find((o) => o.key === 'requestTimeoutMs')?.default ?? 5000);

const ARITY: Record<string, number> = { get: 1, put: 2, del: 1, cas: 3 };
const SHAPE: Record<string, string> = { get: 'KEY', put: 'KEY VALUE', del: 'KEY', cas: 'KEY EXPECTED NEW' };

interface KvBody {
  value?: string;
  index?: number;
  swapped?: boolean;
  current?: string | null;
}

export async function kvCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...common,
      node: { type: 'string' },
      consistency: { type: 'string' },
      'max-staleness-ms': { type: 'string' },
      'fencing-token': { type: 'string' },
      'idempotency-key': { type: 'string' },
    },
  });
  const v = values as CommonValues & typeof values;
  if (v.help) return help(kvHelp);
  const [op, key, ...rest] = positionals;
  if (!op) return help(kvHelp, 'which operation? get, put, del or cas');
  if (!(op in ARITY)) return help(kvHelp, `unknown operation "${op}"; use get, put, del or cas`);
  if (positionals.length - 1 !== ARITY[op])
    return help(kvHelp, `kv ${op} takes ${SHAPE[op]} (${ARITY[op]} argument(s)), got ${positionals.length - 1}`);
  const problem = keyProblem(key);
  if (problem) return help(kvHelp, `${problem} (got ${JSON.stringify(key)})`);
  const c = openCluster(v);
  const node = await someNode(c, v.node);
  const path = `/kv/${encodeURIComponent(key)}`;
  const headers: Record<string, string> = {};
  if (v['fencing-token']) headers['x-fencing-token'] = v['fencing-token'];
  if (v['idempotency-key']) headers['idempotency-key'] = v['idempotency-key'];
  // Wait longer than the node itself does (its request timeout, plus a forward's hop): the node's
  // own answer, such as 504 outcome_unknown, is worth more than a client-side timeout.
  const waitMs = (Number(c.env.RAFT_REQUEST_TIMEOUT_MS) || DEFAULT_REQUEST_TIMEOUT_MS) + 3000;
  let r: HttpResult;
  if (op === 'get') {
    const q = new URLSearchParams();
    if (v.consistency) q.set('consistency', v.consistency);
    if (v['max-staleness-ms']) q.set('maxStalenessMs', v['max-staleness-ms']);
    r = await call(node, 'GET', `${path}${q.size ? `?${q}` : ''}`, undefined, waitMs);
  } else if (op === 'put') r = await call(node, 'PUT', path, { value: rest[0] }, waitMs, headers);
  else if (op === 'del') r = await call(node, 'DELETE', path, undefined, waitMs, headers);
  else
    r = await call(
      node,
      'POST',
      `${path}/cas`,
      { expected: rest[0] === '-' ? null : rest[0], value: rest[1] },
      waitMs,
      headers,
    );
  const b = r.body as KvBody;
  const err = apiError(r.body);
  const human =
    r.status >= 400 && err
      ? `error ${r.status} ${err.code}: ${err.message}`
      : op === 'get'
        ? `${b.value}    (read at index ${b.index}, from ${node.id})`
        : op === 'cas'
          ? b.swapped
            ? `swapped at index ${b.index}`
            : `not swapped: current value is ${JSON.stringify(b.current)}`
          : `ok, index ${b.index}`;
  // A write's trace, opened in the viewer `up` runs for this data dir (when it runs), or in the
  // compose stack's viewer service (the collector sends it every trace) on its published port.
  const traceId = r.headers['x-trace-id'];
  const viewer =
    typeof traceId !== 'string' || op === 'get'
      ? null
      : c.compose
        ? `http://localhost:${DEFAULT_VIEWER_PORT}`
        : runningViewerUrl(c.dataDir);
  const link = viewer && typeof traceId === 'string' ? traceLink(viewer, traceId) : null;
  out(
    v.json,
    { status: r.status, ...(r.body as object), ...(link ? { trace: link } : {}) },
    link ? `${human}\ntrace: ${link}` : human,
  );
  return r.status < 400 || (op === 'cas' && r.status === 412) ? 0 : 1;
}
