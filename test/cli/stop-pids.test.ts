// `down` and `up` stop nodes by pid. A pid may exit between the check and the kill (ESRCH), or not
// be ours to signal (EPERM): that one pid must not throw and leave the others running.
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stopPids } from '../../src/cli/down.js';
import { isAlive } from '../../src/cli/pids.js';

describe('stopPids', () => {
  it('stops the live processes even when another pid in the list is already gone', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((ok) => live.once('exit', (_code, sig) => ok(sig)));
    try {
      expect(isAlive(live.pid!)).toBe(true);
      await stopPids([gone, live.pid!], 5000);
      expect(await exited).toBe('SIGTERM');
    } finally {
      live.kill('SIGKILL');
    }
  });
});
