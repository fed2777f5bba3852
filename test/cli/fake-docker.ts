// A fake `docker` for the tests of the CLI's compose mode and of `doctor`: no Docker engine runs
// here. It is a small program put first on PATH that records every call (calls.jsonl) and answers
// from a state file the test writes: `compose config` prints the resolved config, `compose ps`
// the containers, and kill/pause/unpause/stop signal the real node process standing in for a
// container (so its HTTP API goes away or freezes as a container's would). `start` and `up` only
// mark the container running: the test launches the stand-in when it sees the call.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeContainer {
  state: string;
  pid: number;
}

export interface FakeState {
  /** What `docker compose config --format json` prints. */
  config: unknown;
  containers: Record<string, FakeContainer>;
  /** `docker version`'s server version; null: the daemon does not answer. */
  server?: string | null;
  /** `docker compose version`; null: no compose plugin. */
  compose?: string | null;
  /** Images `docker image inspect` finds. */
  images?: string[];
}

const SCRIPT = `
const fs = require('fs');
const dir = process.env.FAKE_DOCKER_DIR;
const args = process.argv.slice(2);
const statePath = dir + '/state.json';
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
let code = 0;
const fail = (msg) => { process.stderr.write(msg + '\\n'); code = 1; };
if (args[0] === 'version') {
  if (state.server === null) fail('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
  else process.stdout.write((state.server || '27.3.1') + '\\n');
} else if (args[0] === 'image' && args[1] === 'inspect') {
  const missing = args.slice(2).filter((a) => !a.startsWith('-') && !(state.images || []).includes(a));
  if (missing.length) fail('Error: No such image: ' + missing[0]);
  else process.stdout.write('[]\\n');
} else if (args[0] === 'compose' && state.compose === null) {
  fail("docker: unknown command: docker compose\\n\\nRun 'docker --help' for more information");
} else if (args[0] === 'compose') {
  let rest = args.slice(1);
  while (rest[0] === '--profile' || rest[0] === '-f') rest = rest.slice(2);
  const [cmd, ...opts] = rest;
  const svc = opts[opts.length - 1];
  const c = state.containers[svc];
  const signal = (sig) => { try { if (c && c.pid) process.kill(c.pid, sig); } catch (e) { /* gone */ } };
  if (cmd === 'version') process.stdout.write((state.compose || '2.29.7') + '\\n');
  else if (cmd === 'config') process.stdout.write(JSON.stringify(state.config));
  else if (cmd === 'ps')
    process.stdout.write(Object.entries(state.containers).map(([s, x]) => JSON.stringify({ Service: s, Name: 'raft-otel-' + s + '-1', State: x.state })).join('\\n') + '\\n');
  else if (!c && cmd !== 'up') fail('no such service: ' + svc);
  else if (cmd === 'kill') { signal('SIGKILL'); c.state = 'exited'; }
  else if (cmd === 'pause') { signal('SIGSTOP'); c.state = 'paused'; }
  else if (cmd === 'unpause') { signal('SIGCONT'); c.state = 'running'; }
  else if (cmd === 'stop') { signal('SIGTERM'); c.state = 'exited'; }
  else if (cmd === 'rm') { signal('SIGTERM'); delete state.containers[svc]; }
  else if (cmd === 'start') c.state = 'running';
  else if (cmd === 'up') state.containers[svc] = { state: 'running', pid: 0 };
  else fail('the fake docker does not know: compose ' + cmd);
}
else fail('the fake docker does not know: ' + args.join(' '));
fs.writeFileSync(statePath, JSON.stringify(state));
fs.appendFileSync(dir + '/calls.jsonl', JSON.stringify(args) + '\\n');
process.exitCode = code;
`;

export class FakeDocker {
  readonly dir = mkdtempSync(join(tmpdir(), 'raft-fake-docker-'));
  private readonly savedPath = process.env.PATH;

  constructor(state: FakeState) {
    const bin = join(this.dir, 'docker');
    // The script is CommonJS: say so here, or a package.json above the temp dir (TMPDIR inside a
    // checkout of this ES-module project, as scripts/repeat-suite.mjs sets it) makes it a module.
    writeFileSync(join(this.dir, 'package.json'), '{"type":"commonjs"}\n');
    writeFileSync(bin, `#!${process.execPath}\n${SCRIPT}`);
    chmodSync(bin, 0o755);
    this.write(state);
    writeFileSync(join(this.dir, 'calls.jsonl'), '');
  }

  /** The environment a command needs to find this docker first (for spawned commands). */
  env(): Record<string, string> {
    return { PATH: `${this.dir}:${process.env.PATH ?? ''}`, FAKE_DOCKER_DIR: this.dir };
  }

  /** Puts this docker first on this process's PATH (for commands run in-process). */
  install(): void {
    Object.assign(process.env, this.env());
  }

  read(): FakeState {
    return JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as FakeState;
  }

  write(state: FakeState): void {
    writeFileSync(join(this.dir, 'state.json'), JSON.stringify(state));
  }

  /** Every call so far, as argument lists. */
  calls(): string[][] {
    return readFileSync(join(this.dir, 'calls.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string[]);
  }

  /** The calls that change something (not config, ps or version). */
  actions(): string[] {
    return this.calls()
      .map((c) => c.join(' '))
      .filter((c) => !/ (config|ps|version)\b/.test(c) && !/^version/.test(c));
  }

  remove(): void {
    process.env.PATH = this.savedPath;
    delete process.env.FAKE_DOCKER_DIR;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
