// The `raft-otel` command: one entry point, one file per subcommand.
import { nodeCommand, nodeHelp } from './node-cmd.js';
import {
  chaosCommand,
  chaosHelp,
  downCommand,
  downHelp,
  healCommand,
  kvCommand,
  kvHelp,
  membersCommand,
  membersHelp,
  partitionCommand,
  partitionHelp,
  procCommand,
  procHelp,
  statusCommand,
  statusHelp,
  transferCommand,
  transferHelp,
} from './ops.js';
import { upCommand, upHelp } from './up.js';
import { checkCommand, checkHelp } from './check-cmd.js';
import { benchCommand, benchHelp } from './bench-cmd.js';
import { lockCommand, lockHelp } from './lock-cmd.js';
import { simCommand, simHelp } from './sim.js';
import { secretCommand, secretHelp } from './secret-cmd.js';
import { certsCommand, certsHelp } from './certs-cmd.js';

interface Command {
  summary: string;
  help: string;
  run: (argv: string[]) => number | Promise<number>;
}

const commands: Record<string, Command> = {
  up: { summary: 'start a local cluster (3 or 5 nodes) and watch it; Ctrl-C stops it', help: upHelp, run: upCommand },
  down: { summary: 'stop every node of the local cluster', help: downHelp, run: downCommand },
  status: { summary: 'a table of all nodes (--watch to keep it live)', help: statusHelp, run: statusCommand },
  kv: { summary: 'get, put, del or cas a key', help: kvHelp, run: kvCommand },
  kill: { summary: 'SIGKILL a node (a crash)', help: procHelp, run: (a) => procCommand('kill', a) },
  restart: {
    summary: 'start a stopped node again with its data',
    help: procHelp,
    run: (a) => procCommand('restart', a),
  },
  pause: { summary: 'SIGSTOP a node (it freezes)', help: procHelp, run: (a) => procCommand('pause', a) },
  resume: { summary: 'SIGCONT a paused node', help: procHelp, run: (a) => procCommand('resume', a) },
  partition: {
    summary: 'cut the network between groups of nodes (both ways or --one-way)',
    help: partitionHelp,
    run: partitionCommand,
  },
  heal: { summary: 'remove every network cut', help: partitionHelp, run: healCommand },
  chaos: { summary: 'drop, delay or fail messages and disk writes', help: chaosHelp, run: chaosCommand },
  members: { summary: 'list, add or remove members (one change at a time)', help: membersHelp, run: membersCommand },
  lock: {
    summary: 'acquire, renew, release or show a leased lock with fencing tokens',
    help: lockHelp,
    run: lockCommand,
  },
  bench: {
    summary: 'load the cluster and print throughput and latency (bench failover: recovery times)',
    help: benchHelp,
    run: benchCommand,
  },
  'check-linearizable': {
    summary: 'clients + a nemesis against the local cluster, then a linearizability verdict',
    help: checkHelp,
    run: checkCommand,
  },
  'transfer-leadership': { summary: 'hand leadership to another node', help: transferHelp, run: transferCommand },
  node: {
    summary: 'run one node in the foreground (every setting a flag and an env variable)',
    help: nodeHelp,
    run: nodeCommand,
  },
  secret: { summary: 'make the cluster secret peers authenticate with', help: secretHelp, run: secretCommand },
  certs: {
    summary: 'make a CA and node certificates for mutual TLS between peers',
    help: certsHelp,
    run: certsCommand,
  },
  sim: {
    summary: 'run the deterministic simulator for one seed and print its timeline',
    help: simHelp,
    run: simCommand,
  },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(22)}${c.summary}`);
  return `usage: raft-otel <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun 'raft-otel <command> --help' for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`error: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: ${msg}\nRun 'raft-otel ${name} --help' for usage.\n`);
    return 2;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
