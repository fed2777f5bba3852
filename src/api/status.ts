// The body of GET /status, typed where the node declares it, so the command line, the start-up
// bench and the tests read the same shape the node sends (and a renamed field fails to compile
// there rather than read as undefined).
export type { NodeStatus } from '../node/surface.js';
