// `raft-otel partition GROUP GROUP...` and `raft-otel heal`: network cuts through each node's
// admin API. The groups are checked before anything changes: each id known, each in one group.
import { parseArgs } from 'node:util';
import { findNode, isRunning, liveNodes, readCluster, type ClusterFile } from './cluster-file.js';
import { checkIds, common, help, out, type CommonValues } from './common.js';
import { adminCall, expectOk } from './http.js';

export const partitionHelp = `raft-otel partition GROUP GROUP... [--one-way]
raft-otel heal

Splits the cluster: nodes in different groups cannot reach each other. Groups are comma-separated
ids, e.g. \`raft-otel partition n1 n2,n3\` isolates n1. Each node may appear in one group only;
nodes in no group join the last group (the output says so). With --one-way and two groups, only
messages from the first group to the second are cut. \`heal\` removes every cut.
`;

/** The groups as given, with unlisted nodes added to the last; or what is wrong with them. */
export function parseGroups(
  c: ClusterFile,
  args: string[],
  oneWay: boolean,
): { groups: string[][]; added: string[] } | { problem: string } {
  if (args.length < 2)
    return {
      problem: `partition needs at least two groups (got ${args.length ? `only "${args[0]}"` : 'none'}), e.g. \`raft-otel partition n1 n2,n3\``,
    };
  if (oneWay && args.length !== 2) return { problem: `--one-way takes exactly two groups, got ${args.length}` };
  const groups = args.map((g) => g.split(','));
  const empty = groups.findIndex((g) => g.some((id) => id === ''));
  if (empty >= 0) return { problem: `group ${empty + 1} ("${args[empty]}") has an empty id; write ids as n1,n2` };
  const unknown = checkIds(c, groups.flat());
  if (unknown) return { problem: unknown };
  const seen = new Map<string, number>();
  for (const [i, g] of groups.entries())
    for (const id of g) {
      const first = seen.get(id);
      if (first !== undefined)
        return {
          problem:
            first === i
              ? `${id} is twice in group ${i + 1} ("${args[i]}")`
              : `${id} is in group ${first + 1} ("${args[first]}") and in group ${i + 1} ("${args[i]}"); a node can be on one side only`,
        };
      seen.set(id, i);
    }
  const added = liveNodes(c)
    .map((n) => n.id)
    .filter((id) => !seen.has(id));
  groups[groups.length - 1].push(...added);
  return { groups, added };
}

/** Cuts the network between the groups (checked by parseGroups) through each node's admin API;
 *  with oneWay, only messages from the first group to the second. Also what the viewer's buttons do. */
export async function applyPartition(c: ClusterFile, groups: string[][], oneWay: boolean): Promise<void> {
  const groupOf = (id: string) => groups.findIndex((g) => g.includes(id));
  const all = groups.flat();
  const cuts = all.map((id) => {
    const others = all.filter((o) => groupOf(o) !== groupOf(id));
    if (!oneWay) return { id, cutOut: others, cutIn: others };
    return { id, cutOut: groupOf(id) === 0 ? groups[1] : [], cutIn: groupOf(id) === 1 ? groups[0] : [] };
  });
  // A node that is down has no cuts to set (a node starts with none); it gets them when it is back
  // only through another partition. Paused nodes are asked, and time out: their cuts would outlive a resume.
  const answers = await Promise.all(
    cuts
      .filter(({ id }) => isRunning(findNode(c, id)))
      .map(({ id, cutOut, cutIn }) => adminCall(c, findNode(c, id), 'POST', '/admin/chaos', { cutOut, cutIn })),
  );
  answers.forEach(expectOk);
}

/** Removes every network cut on every node. */
export async function healAll(c: ClusterFile): Promise<void> {
  const answers = await Promise.all(
    liveNodes(c)
      .filter(isRunning)
      .map((n) => adminCall(c, n, 'POST', '/admin/chaos', { cutOut: [], cutIn: [] })),
  );
  answers.forEach(expectOk);
}

export async function partitionCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...common, 'one-way': { type: 'boolean' } },
  });
  const v = values as CommonValues & { 'one-way'?: boolean };
  if (v.help) return help(partitionHelp);
  const c = readCluster(v['data-dir']);
  const parsed = parseGroups(c, positionals, !!v['one-way']);
  if ('problem' in parsed) return help(partitionHelp, parsed.problem);
  const { groups, added } = parsed;
  await applyPartition(c, groups, !!v['one-way']);
  const note = added.length ? ` (${added.join(', ')} in no group: joined the last one)` : '';
  out(
    v.json,
    { groups, added },
    `partitioned: ${groups.map((g) => `{${g.join(',')}}`).join(v['one-way'] ? ' -> ' : ' | ')}${note}`,
  );
  return 0;
}

export async function healCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common });
  const v = values;
  if (v.help) return help(partitionHelp);
  if (positionals.length) return help(partitionHelp, `heal takes no arguments (got ${positionals.join(' ')})`);
  const c = readCluster(v['data-dir']);
  await healAll(c);
  out(v.json, { healed: true }, 'healed: every link is back');
  return 0;
}
