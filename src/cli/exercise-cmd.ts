// `raft-otel exercise list | start N | check N`: the guided exercises of exercises/ (their checks
// live in src/exercises/, one module each).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR } from './cluster-file.js';
import { runningViewerUrl } from '../viewer/server/info.js';
import { help, out } from './common.js';
import type { Cluster } from '../exercises/nodes.js';
import type { Exercise } from '../exercises/types.js';

export const exerciseHelp = `raft-otel exercise list
raft-otel exercise start N [--data-dir DIR | --compose]
raft-otel exercise check N [--traces URL] [--data-dir DIR | --compose] [--json]

The guided exercises (exercises/NN-name/README.md says what to do in each).
  list    every exercise and the question it answers
  start   records where exercise N begins: the time and each node's state (in DIR/exercises/N.json);
          its check looks only at what happened after it
  check   verifies, from the traces and the nodes' state, that you did exercise N and saw what it is
          about. Prints each thing it verified with ✓ or ✗, the id of the trace that proves it, and
          on ✗ what to do next. It also asserts two safety facts every time: at most one leader
          elected per term, one term per applied index. Exit status 0 only when all hold.

Options:
  --data-dir DIR  the local cluster (default ./data)
  --compose       the Docker Compose cluster (as \`docker compose\` lists it), traces from Jaeger
                  (http://127.0.0.1:16686); records kept in ./data/exercises. RAFT_OTEL_COMPOSE=1 in
                  the environment makes it the default
  --traces URL    where to query spans: any Jaeger v2 /api/v3 (default: the built-in viewer
                  \`up\` runs for the data dir, else http://127.0.0.1:8000; Jaeger with --compose)
  --json          the result as JSON
`;

const VIEWER_URL = 'http://127.0.0.1:8000';
const JAEGER_URL = 'http://127.0.0.1:16686';

interface Values {
  'data-dir': string;
  compose?: boolean;
  traces?: string;
  json?: boolean;
  help?: boolean;
}

export async function exerciseCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      compose: { type: 'boolean' },
      traces: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  // RAFT_OTEL_COMPOSE=1 makes --compose the default, as for the other commands.
  const v: Values = {
    ...values,
    compose: values.compose ?? /^(1|true|yes|on)$/i.test(process.env.RAFT_OTEL_COMPOSE ?? ''),
  };
  if (v.help) return help(exerciseHelp);
  const [action, name, ...extra] = positionals;
  if (!action) return help(exerciseHelp, 'which? exercise list, exercise start N or exercise check N');
  if (action === 'list') {
    if (name) return help(exerciseHelp, `exercise list takes no argument (got "${name}")`);
    return list(v.json);
  }
  if (action !== 'start' && action !== 'check')
    return help(exerciseHelp, `unknown action "${action}"; use list, start or check`);
  if (!name) return help(exerciseHelp, `exercise ${action} needs an exercise number, e.g. \`exercise ${action} 0\``);
  if (extra.length) return help(exerciseHelp, `unexpected argument "${extra[0]}"`);
  if (v.traces !== undefined && !/^https?:\/\/[^/]+/.test(v.traces))
    return help(exerciseHelp, `--traces must be an http(s) URL such as ${JAEGER_URL}, not "${v.traces}"`);
  const { findExercise } = await import('../exercises/registry.js');
  const ex = await findExercise(name);
  const cluster = await findTheCluster(v);
  if (action === 'start') return start(ex.id, cluster, v.json);
  return check(ex, cluster, v);
}

async function list(json?: boolean): Promise<number> {
  const { allExercises } = await import('../exercises/registry.js');
  const all = await allExercises();
  out(
    json,
    all.map((e) => ({
      id: e.id,
      slug: e.slug,
      title: e.title,
      question: e.question,
      readme: `exercises/${e.slug}/README.md`,
    })),
    all.map((e) => `  ${e.id}  ${e.title.padEnd(34)} ${e.question}\n      exercises/${e.slug}/README.md`).join('\n'),
  );
  return 0;
}

async function findTheCluster(v: Values): Promise<Cluster> {
  const { composeNodes, localCluster } = await import('../exercises/nodes.js');
  if (v.compose) return composeNodes(resolve(v['data-dir']));
  const c = localCluster(v['data-dir']);
  if (!c)
    throw new Error(
      `no cluster at ${resolve(v['data-dir'])}. Start one with \`npm start\` (raft-otel up), pass --data-dir where it runs, or --compose for Docker`,
    );
  return c;
}

async function start(id: string, cluster: Cluster, json?: boolean): Promise<number> {
  const { statuses } = await import('../exercises/nodes.js');
  const { saveStart } = await import('../exercises/start-record.js');
  const sts = await statuses(cluster.nodes);
  const record = {
    exercise: id,
    startedAt: Date.now(),
    nodes: cluster.nodes.map((n) => ({ id: n.id, http: n.http, status: sts.get(n.id) ?? null })),
  };
  const path = saveStart(cluster.recordDir ?? resolve(DEFAULT_DATA_DIR), record);
  const state = record.nodes
    .map(
      (n) =>
        `  ${n.id}  ${n.status ? `${n.status.role}, term ${n.status.term}, commit ${n.status.commitIndex}` : 'not answering'}`,
    )
    .join('\n');
  out(
    json,
    { ...record, path },
    `exercise ${id} starts now (${new Date(record.startedAt).toLocaleTimeString()}); recorded in ${path}\n${state}\n\nDo the steps of its README, then: raft-otel exercise check ${id}`,
  );
  return 0;
}

async function check(ex: Exercise, cluster: Cluster, v: Values): Promise<number> {
  const { loadStart } = await import('../exercises/start-record.js');
  const { runCheck, render } = await import('../exercises/run.js');
  const start = cluster.recordDir ? loadStart(cluster.recordDir, ex.id) : null;
  if (ex.needsStart && !start) {
    throw new Error(
      `exercise ${ex.id} looks only at what happens after you start it: run \`raft-otel exercise start ${ex.id}${v.compose ? ' --compose' : ''}\`, then do the steps of exercises/${ex.slug}/README.md, then check again`,
    );
  }
  // Without a start record the window is the cluster's whole life (bounded: a day).
  const since = start ? start.startedAt : Date.now() - 24 * 3600_000;
  const tracesUrl = (v.traces ?? (v.compose ? JAEGER_URL : viewerUrl(v['data-dir']))).replace(/\/+$/, '');
  const o = await runCheck(ex, cluster, tracesUrl, start, since);
  out(v.json, o, render(o));
  return o.passed ? 0 : 1;
}

/** The built-in viewer `up` runs for this data dir, else its default address. */
function viewerUrl(dataDir: string): string {
  return runningViewerUrl(dataDir) ?? VIEWER_URL;
}
