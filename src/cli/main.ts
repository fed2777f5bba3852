// The `raft-otel` command: one entry point, one file per subcommand.
import { simCommand, simHelp } from './sim.js';

interface Command {
  summary: string;
  help: string;
  run: (argv: string[]) => number | Promise<number>;
}

const commands: Record<string, Command> = {
  sim: { summary: 'run the deterministic simulator for one seed and print its timeline', help: simHelp, run: simCommand },
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
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
