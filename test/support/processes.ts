// Every process a test starts goes through here, so none outlives its test file: the setup file
// (test/support/setup.ts) stops whatever is left after each file, passed or failed, and an exit
// hook kills the rest if the test worker itself goes away. Nodes launched by the harness also
// preload EXIT_WITH_PARENT, which ends them if the worker dies without running any hook.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A preload for `node --import <this> ...`: when the test worker that started the process dies
 *  without cleaning up (killed by a timeout, Ctrl-C, a crash), the process is re-parented; this
 *  notices within half a second and ends it, so no node of a test run lives on holding its ports.
 *  The timer is unref'd: it never keeps a process alive, and while the parent lives it does nothing.
 *  A data: URL, so that it needs no loader and no file of its own. */
export const EXIT_WITH_PARENT = `data:text/javascript,${encodeURIComponent(
  'const parent = process.ppid; setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, "SIGKILL"); }, 500).unref();',
)}`;

/** A preload like EXIT_WITH_PARENT for processes that must outlive their own parent but not the
 *  test worker: the nodes `raft-otel up` and `raft-otel restart` start detached (a killed `up`
 *  leaves them running, as a user's would). It ends the process within half a second of process
 *  `pid` (the worker, `process.pid`) being gone. Given to a command through NODE_OPTIONS (see
 *  withExitGuard), it reaches every node that command starts, since the CLI passes its environment on. */
export function exitWithProcess(pid: number): string {
  return `data:text/javascript,${encodeURIComponent(
    `setInterval(() => { try { process.kill(${pid}, 0); } catch (e) { if (e.code === "ESRCH") process.kill(process.pid, "SIGKILL"); } }, 500).unref();`,
  )}`;
}

/** `env` with NODE_OPTIONS extended to preload exitWithProcess(this worker), for a command whose
 *  descendants must die with the worker. */
export function withExitGuard(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const guard = `--import ${exitWithProcess(process.pid)}`;
  return { ...env, NODE_OPTIONS: env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ${guard}` : guard };
}

const children = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<void> | void>();

/** `spawn`, with the child registered so that it is killed when the test file ends. */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Registers extra clean-up (e.g. processes a child started detached); returns its remover. */
export function onCleanup(fn: () => Promise<void> | void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Whether a child is still running (it may be paused). */
export function isRunning(child: ChildProcess | null | undefined): boolean {
  return !!child && child.exitCode === null && child.signalCode === null;
}

/** Kills one child (SIGCONT first: a paused process cannot die of SIGTERM) and waits for its exit. */
export function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
    child.once('exit', (code: number | null) => done(code));
    if (signal !== 'SIGKILL') child.kill('SIGCONT');
    child.kill(signal);
  });
}

/** Runs every registered clean-up and kills every child still running; returns what was left,
 *  so the caller can say so. */
export async function stopAll(): Promise<string[]> {
  const left = [...children].filter(isRunning).map((c) => `pid ${c.pid} (${c.spawnargs.slice(-4).join(' ')})`);
  const fns = [...cleanups];
  cleanups.clear();
  for (const fn of fns) {
    try {
      await fn();
    } catch (e) {
      left.push(`clean-up failed: ${(e as Error).message}`);
    }
  }
  await Promise.all([...children].map((c) => killChild(c)));
  return left;
}

// The worker is exiting: no await is possible any more, but signals still go out.
process.once('exit', () => {
  for (const c of children) if (isRunning(c)) c.kill('SIGKILL');
});
