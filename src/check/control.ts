// What a nemesis or a benchmark may do to a cluster. The CLI implements it for a local cluster
// (cluster.json, pids, the admin API); the tests implement it for their own clusters.
export interface Member {
  id: string;
  http: string;
}

export interface ClusterControl {
  members(): Member[];
  /** Whether the node's process runs (it may still be paused). */
  running(id: string): boolean;
  kill(id: string): Promise<void>;
  restart(id: string): Promise<void>;
  pause(id: string): void;
  resume(id: string): void;
  /** Sets network faults on one node through its admin API. */
  chaos(
    id: string,
    settings: {
      dropRate?: number;
      dropReplyRate?: number;
      delayMs?: [number, number];
      cutOut?: string[];
      cutIn?: string[];
    },
  ): Promise<void>;
}

/** The current leader's id, asking each running node; null when none answers as leader. */
export async function findLeader(control: ClusterControl, timeoutMs = 300): Promise<string | null> {
  const answers = await Promise.all(
    control
      .members()
      .filter((m) => control.running(m.id))
      .map(async (m) => {
        try {
          const r = await fetch(`http://${m.http}/status`, { signal: AbortSignal.timeout(timeoutMs) });
          const s = (await r.json()) as { role: string; id: string };
          return s.role === 'leader' ? s.id : null;
        } catch {
          return null;
        }
      }),
  );
  return answers.find((a) => a !== null) ?? null;
}

/** A cluster known only by its nodes' HTTP addresses (`--targets n1=host:port,...`), as in
 *  Docker: load can be generated, but processes cannot be killed or faults injected from here. */
export function targetsControl(spec: string): ClusterControl {
  const members = spec.split(',').map((part) => {
    const m = /^\s*([^=\s]+)=([^\s]+:\d+)\s*$/.exec(part);
    if (!m) throw new Error(`target "${part}" is not id=host:port (e.g. n1=raft-1:8000)`);
    return { id: m[1], http: m[2] };
  });
  const no = (what: string) => () => {
    throw new Error(`cannot ${what} with --targets: run this against a local cluster (raft-otel up) instead`);
  };
  return {
    members: () => members,
    running: () => true,
    kill: no('kill a node'),
    restart: no('restart a node'),
    pause: no('pause a node'),
    resume: no('resume a node'),
    chaos: no('inject faults'),
  };
}
