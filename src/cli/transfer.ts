// `raft-otel transfer-leadership [--to ID]`: the leader hands over (TimeoutNow).
import { parseArgs } from 'node:util';
import { CLUSTER_OPTIONS, checkIds, common, help, leaderNode, openCluster, out, type CommonValues } from './common.js';
import { adminCall, expectOk } from './http.js';

export const transferHelp = `raft-otel transfer-leadership [--to ID]

Hands leadership over (thesis 3.10): the leader brings the target up to date, then tells it to
start an election at once. Without --to, the most up-to-date follower takes over.
${CLUSTER_OPTIONS}`;

export async function transferCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...common, to: { type: 'string' } } });
  const v = values as CommonValues & { to?: string };
  if (v.help) return help(transferHelp);
  const c = openCluster(v);
  if (v.to) {
    const problem = checkIds(c, [v.to]);
    if (problem) return help(transferHelp, problem);
  }
  const r = await adminCall(
    c,
    await leaderNode(c),
    'POST',
    '/admin/transfer-leadership',
    v.to ? { to: v.to } : {},
    10_000,
  );
  expectOk(r);
  const b = r.body as { leader: string };
  out(v.json, b, `leader is now ${b.leader}`);
  return 0;
}
