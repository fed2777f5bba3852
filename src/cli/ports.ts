// Is a port free, and if not, who holds it? `up` asks before it starts anything, so a busy port
// is a clear error naming the port and its holder rather than nodes dying with EADDRINUSE in
// their logs while another cluster answers in their place.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { commandLine } from './pids.js';

/** True when host:port can be bound now. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => ok(true)));
  });
}

/** A base port with `n` consecutive ports free on host after it (node i of `up` uses base + i - 1),
 *  picked at random in 20000-49999 so that parallel runs rarely collide. */
export async function consecutiveFreePorts(n: number, host = '127.0.0.1', tries = 100): Promise<number> {
  for (let attempt = 0; attempt < tries; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const free = await Promise.all(Array.from({ length: n }, (_, i) => portFree(host, base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${n} consecutive free ports on ${host} found in ${tries} tries`);
}

/** The inodes of listening TCP sockets on `port` (Linux /proc/net/tcp and tcp6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the tenth field.
      if (f.length < 10 || f[3] !== '0A') continue;
      if (parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  return inodes;
}

/** Who listens on `port`: "pid 123 (node ... --id n1 ...)", or null when it cannot be told
 *  (another user's process, or no /proc). */
export function portHolder(port: number): string | null {
  const inodes = listeningInodes(port);
  if (!inodes.size) return null;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // not ours to look at
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) {
        const cmd = commandLine(Number(pid)) ?? '';
        return `pid ${pid}${cmd ? ` (${cmd.length > 160 ? cmd.slice(0, 157) + '...' : cmd})` : ''}`;
      }
    }
  }
  return null;
}

/** The first of these ports that is in use, with its holder, or null when all are free. */
export async function firstBusyPort(
  ports: { host: string; port: number; what: string }[],
): Promise<{ port: number; what: string; holder: string | null } | null> {
  for (const p of ports) if (!(await portFree(p.host, p.port))) return { ...p, holder: portHolder(p.port) };
  return null;
}
