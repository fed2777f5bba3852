// The `raft-otel` command: one entry point, one module per subcommand. Each command's module is
// imported only when that command runs: `status` must not pay for the OpenTelemetry SDK, express
// or gRPC, which only a node needs. A new command is one line in the table below.

interface Command {
  summary: string;
  run: (argv: string[]) => number | Promise<number>;
}

const commands: Record<string, Command> = {
  up: {
    summary: 'start a local cluster (3 or 5 nodes) and watch it; Ctrl-C stops it',
    run: async (a) => (await import('./up.js')).upCommand(a),
  },
  down: {
    summary: 'stop every node of the local cluster',
    run: async (a) => (await import('./down.js')).downCommand(a),
  },
  viewer: {
    summary: 'the built-in viewer alone: timeline, traces, OTLP receiver, /api/v3 (`up` starts one)',
    run: async (a) => (await import('./viewer-cmd.js')).viewerCommand(a),
  },
  status: {
    summary: 'a table of all nodes (--watch to keep it live)',
    run: async (a) => (await import('./status.js')).statusCommand(a),
  },
  kv: { summary: 'get, put, del or cas a key', run: async (a) => (await import('./kv.js')).kvCommand(a) },
  kill: { summary: 'SIGKILL a node (a crash)', run: async (a) => (await import('./proc.js')).procCommand('kill', a) },
  restart: {
    summary: 'start a stopped node again with its data',
    run: async (a) => (await import('./proc.js')).procCommand('restart', a),
  },
  pause: {
    summary: 'SIGSTOP a node (it freezes)',
    run: async (a) => (await import('./proc.js')).procCommand('pause', a),
  },
  resume: {
    summary: 'SIGCONT a paused node',
    run: async (a) => (await import('./proc.js')).procCommand('resume', a),
  },
  partition: {
    summary: 'cut the network between groups of nodes (both ways or --one-way)',
    run: async (a) => (await import('./partition.js')).partitionCommand(a),
  },
  heal: {
    summary: 'remove every network cut',
    run: async (a) => (await import('./partition.js')).healCommand(a),
  },
  chaos: {
    summary: 'drop, delay or fail messages and disk writes',
    run: async (a) => (await import('./chaos-cmd.js')).chaosCommand(a),
  },
  members: {
    summary: 'list, add or remove members (one change at a time)',
    run: async (a) => (await import('./members.js')).membersCommand(a),
  },
  lock: {
    summary: 'acquire, renew, release or show a leased lock with fencing tokens',
    run: async (a) => (await import('./lock-cmd.js')).lockCommand(a),
  },
  bench: {
    summary: 'load the cluster and print throughput and latency (bench failover: recovery times)',
    run: async (a) => (await import('./bench-cmd.js')).benchCommand(a),
  },
  'check-linearizable': {
    summary: 'clients + a nemesis against the local cluster, then a linearizability verdict',
    run: async (a) => (await import('./check-cmd.js')).checkCommand(a),
  },
  'transfer-leadership': {
    summary: 'hand leadership to another node',
    run: async (a) => (await import('./transfer.js')).transferCommand(a),
  },
  node: {
    summary: 'run one node in the foreground (every setting a flag and an env variable)',
    run: async (a) => (await import('./node-cmd.js')).nodeCommand(a),
  },
  secret: {
    summary: 'make the cluster secret peers authenticate with',
    run: async (a) => (await import('./secret-cmd.js')).secretCommand(a),
  },
  certs: {
    summary: 'make a CA and node certificates for mutual TLS between peers',
    run: async (a) => (await import('./certs-cmd.js')).certsCommand(a),
  },
  doctor: {
    summary: 'pre-flight check before a class: Node, free ports, data dir (--compose: Docker, images, ports)',
    run: async (a) => (await import('./doctor-cmd.js')).doctorCommand(a),
  },
  metrics: {
    summary: "a local cluster's metrics: scrape every node's /status, Prometheus text on :9464 (exercise 12)",
    run: async (a) => (await import('../exercises/metrics-watch.js')).main(a),
  },
  exercise: {
    summary: 'the guided exercises: list, start N, check N (verified from traces and node state)',
    run: async (a) => (await import('./exercise-cmd.js')).exerciseCommand(a),
  },
  sim: {
    summary: 'run the deterministic simulator for one seed and print its timeline',
    run: async (a) => (await import('./sim.js')).simCommand(a),
  },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(22)}${c.summary}`);
  return `usage: raft-otel <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun 'raft-otel <command> --help' for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? process.stdout : process.stderr).write(name ? usage() : `error: no command given\n\n${usage()}`);
    return name ? 0 : 2;
  }
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    process.stderr.write(`error: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  // `raft-otel sim --seed 42 | head`: a reader that goes away ends the command quietly, rather than
  // crashing it with EPIPE. (`up` keeps its cluster running regardless; `node` logs to a file.)
  if (name !== 'up' && name !== 'node')
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
    });
  try {
    return await cmd.run(rest);
  } catch (e) {
    // What went wrong, and what to do: every message a command throws says both. A failure at run
    // time (a node that cannot start, no answer) exits 1; usage problems found up front exit 2.
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: ${msg}\n`);
    return 1;
  }
}

// Run as a program (`node dist/src/cli/main.js ...`, how `up` starts each node) rather than
// imported by bin/raft-otel.mjs or a test.
const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
