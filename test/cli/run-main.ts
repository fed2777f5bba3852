// Runs a `raft-otel` command in this process (no spawn: the CLI's own module, from the sources)
// and collects what it prints, so a test can run many commands quickly and read their output.
import http from 'node:http';
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export interface MainResult {
  code: number;
  out: string;
  err: string;
}

// One command is one process for a user, so its HTTP connections never outlive it. Run in-process,
// commands would share the global agent's kept-alive sockets, and one reused just as the node
// closes it (after its keep-alive timeout) fails with ECONNRESET: no user ever sees that race.
http.globalAgent = new http.Agent({ keepAlive: false });

export async function runMain(args: string[]): Promise<MainResult> {
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    out += `${a.map(String).join(' ')}\n`;
  });
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    log.mockRestore();
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
