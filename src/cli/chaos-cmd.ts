// `raft-otel chaos`: network and disk faults on every node, or one, through the admin API.
import { parseArgs } from 'node:util';
import { parseDelay } from '../transport/chaos.js';
import { findNode, liveNodes } from './cluster-file.js';
import { CLUSTER_OPTIONS, checkIds, common, help, openCluster, out, type CommonValues } from './common.js';
import { adminCall, expectOk } from './http.js';

export const chaosHelp = `raft-otel chaos [--drop R] [--drop-reply R] [--delay MIN-MAX] [--slow-fsync MS] [--fail-writes true|false] [--node ID] [--off]

Injects faults between nodes (on every node, or only --node ID):
  --drop R          drop a fraction R (0..1) of outgoing requests
  --drop-reply R    drop a fraction R of replies after the request was handled
  --delay MIN-MAX   add MIN..MAX ms of latency to each request (or one number)
  --slow-fsync MS   make every fsync take MS ms longer
  --fail-writes B   make every disk write fail (the node stops: it cannot promise durability)
  --off             remove all network and disk faults (partitions stay: use \`heal\`)
Without options it shows the current faults.
${CLUSTER_OPTIONS}`;

interface ChaosView {
  chaos: { dropRate: number; dropReplyRate: number; delayMs: [number, number]; cutOut: string[]; cutIn: string[] };
  disk: { slowFsyncMs: number; failWrites: boolean };
}

function fraction(flag: string, text: string): number {
  const n = Number(text);
  if (!(n >= 0 && n <= 1)) throw new Error(`--${flag} takes a fraction between 0 and 1, not "${text}"`);
  return n;
}

export async function chaosCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...common,
      drop: { type: 'string' },
      'drop-reply': { type: 'string' },
      delay: { type: 'string' },
      'slow-fsync': { type: 'string' },
      'fail-writes': { type: 'string' },
      node: { type: 'string' },
      off: { type: 'boolean' },
    },
  });
  const v = values as CommonValues & typeof values;
  if (v.help) return help(chaosHelp);
  if (positionals.length) return help(chaosHelp, `chaos takes options only, not "${positionals.join(' ')}"`);
  const net: Record<string, unknown> = {};
  const disk: Record<string, unknown> = {};
  if (v.off) {
    Object.assign(net, { dropRate: 0, dropReplyRate: 0, delayMs: [0, 0] });
    Object.assign(disk, { slowFsyncMs: 0, failWrites: false });
  }
  try {
    if (v.drop !== undefined) net.dropRate = fraction('drop', v.drop);
    if (v['drop-reply'] !== undefined) net.dropReplyRate = fraction('drop-reply', v['drop-reply']);
    if (v.delay !== undefined) net.delayMs = parseDelay(v.delay);
    if (v['slow-fsync'] !== undefined) {
      const ms = Number(v['slow-fsync']);
      if (!(ms >= 0)) throw new Error(`--slow-fsync takes milliseconds >= 0, not "${v['slow-fsync']}"`);
      disk.slowFsyncMs = ms;
    }
    if (v['fail-writes'] !== undefined) {
      if (!['true', 'false'].includes(v['fail-writes']))
        throw new Error(`--fail-writes takes true or false, not "${v['fail-writes']}"`);
      disk.failWrites = v['fail-writes'] === 'true';
    }
  } catch (e) {
    return help(chaosHelp, (e as Error).message);
  }
  const c = openCluster(v);
  if (v.node) {
    const problem = checkIds(c, [v.node]);
    if (problem) return help(chaosHelp, problem);
  }
  const targets = v.node ? [findNode(c, v.node)] : liveNodes(c);
  const results: Record<string, ChaosView> = {};
  for (const n of targets) {
    if (Object.keys(net).length) expectOk(await adminCall(c, n, 'POST', '/admin/chaos', net));
    if (Object.keys(disk).length) expectOk(await adminCall(c, n, 'POST', '/admin/disk', disk));
    const view = await adminCall(c, n, 'GET', '/admin/chaos');
    expectOk(view);
    results[n.id] = view.body as ChaosView;
  }
  const human = Object.entries(results)
    .map(([id, { chaos: ch, disk: d }]) => {
      return `  ${id}: drop ${ch.dropRate}, drop-reply ${ch.dropReplyRate}, delay ${ch.delayMs[0]}-${ch.delayMs[1]} ms, cut to [${ch.cutOut.join(',')}] from [${ch.cutIn.join(',')}], slow fsync ${d.slowFsyncMs} ms, failing writes ${d.failWrites}`;
    })
    .join('\n');
  out(v.json, results, human);
  return 0;
}
