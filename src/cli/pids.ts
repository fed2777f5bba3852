// Is a process alive, and is it the one we think? A recorded pid counts as ours only while that
// process's command line names what it was started for (a node's data dir): after a reboot or a
// crash, the number may belong to anything. The CLI, the start-up bench and the tests all ask here.
import { existsSync, readFileSync } from 'node:fs';

/** True while the process exists (EPERM: it exists, but belongs to another user). */
export function isAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line (Linux /proc), or null where it cannot be read. */
export function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

/** True when `pid` is alive and its command line contains `marker`, i.e. it is the process that
 *  was started with it, not one that reused the number. Without /proc, a live pid is trusted. */
export function isOwnProcess(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true;
  const cmd = commandLine(pid);
  return cmd === null || cmd.includes(marker);
}

/** Sends the signal, and goes on when the process is gone already (it may exit between our check
 *  and the kill: ESRCH) or is not ours to signal (EPERM): stopping several, one such pid must not orphan the rest. */
export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
