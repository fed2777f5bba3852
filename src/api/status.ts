// The body of GET /status, typed from what the node's status() returns, so the command line, the
// start-up bench and the tests read the same shape the node sends (and a renamed field fails to
// compile there rather than read as undefined).
import type { RaftNode } from '../node/node.js';

export type NodeStatus = ReturnType<RaftNode['status']>;
