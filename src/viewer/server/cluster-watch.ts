// The local cluster as the page's panel shows it: each node's /status (role, term, leader, indexes,
// the leader's progress per follower), whether its process is down or paused, and which peers it
// is cut off from (its admin chaos settings). Found through the data dir's cluster files, as the
// commands find it. Polled every 250 ms only while someone listens (the page's stream); a change is
// pushed, an unchanged view is not.
import type { NodeStatus } from '../../api/status.js';
import { findCluster, isPaused, isRunning, liveNodes } from '../../cli/cluster-file.js';
import { adminCall, ownStatus } from '../../cli/http.js';

export interface NodeView {
  id: string;
  http: string;
  status: NodeStatus | null;
  down: boolean;
  paused: boolean;
  cutOff: string[];
}

export interface ClusterView {
  attached: boolean;
  nodes: NodeView[];
}

export const CLUSTER_POLL_MS = 250;

interface ChaosBody {
  chaos?: { cutOut?: string[]; cutIn?: string[] };
}

export class ClusterWatch {
  private listeners = new Set<(view: ClusterView, json: string) => void>();
  private timer: NodeJS.Timeout | null = null;
  private last = '';
  private polling: Promise<ClusterView> | null = null;

  constructor(readonly dataDir: string | null) {}

  attached(): boolean {
    return this.dataDir !== null && findCluster(this.dataDir) !== null;
  }

  /** The cluster now (one poll; concurrent callers share it). */
  view(): Promise<ClusterView> {
    this.polling ??= this.poll().finally(() => (this.polling = null));
    return this.polling;
  }

  private async poll(): Promise<ClusterView> {
    const c = this.dataDir === null ? null : findCluster(this.dataDir);
    if (!c) return { attached: false, nodes: [] };
    const nodes = await Promise.all(
      liveNodes(c).map(async (n): Promise<NodeView> => {
        const running = isRunning(n);
        const paused = running && isPaused(n.pid);
        if (!running || paused) return { id: n.id, http: n.http, status: null, down: !running, paused, cutOff: [] };
        const [status, chaos] = await Promise.all([
          ownStatus(n, 500),
          adminCall(c, n, 'GET', '/admin/chaos', undefined, 500).then(
            (r) => (r.status === 200 ? (r.body as ChaosBody).chaos : undefined),
            () => undefined,
          ),
        ]);
        const cut = new Set([...(chaos?.cutOut ?? []), ...(chaos?.cutIn ?? [])]);
        return { id: n.id, http: n.http, status, down: false, paused: false, cutOff: [...cut].sort() };
      }),
    );
    return { attached: true, nodes };
  }

  /** Calls `fn` with the view whenever it changes (at once with the current one). */
  subscribe(fn: (view: ClusterView, json: string) => void): () => void {
    this.listeners.add(fn);
    if (this.last) fn(JSON.parse(this.last) as ClusterView, this.last);
    if (!this.timer) this.loop();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
    };
  }

  private loop(): void {
    const tick = async () => {
      try {
        const view = await this.view();
        const json = JSON.stringify(view);
        if (json !== this.last) {
          this.last = json;
          for (const fn of this.listeners) fn(view, json);
        }
      } catch {
        /* a poll that failed as a whole: the next one says how things are */
      }
      if (this.listeners.size) this.timer = setTimeout(() => void tick(), CLUSTER_POLL_MS);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  /** Forgets the last view, so the next poll is pushed even if unchanged (after a control action). */
  poke(): void {
    this.last = '';
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }
}
