// Original file: proto/raft.proto

import type { PipeFrame as _raft_PipeFrame, PipeFrame__Output as _raft_PipeFrame__Output } from '../raft/PipeFrame.js';

/**
 * One gRPC message on a Pipe: the calls (or answers) its sender made in one turn of its event loop,
 * so that a follower forwarding many clients' writes at once, or a leader answering them, pays
 * grpc-js's per-message cost once (src/transport/pipe-frames.ts).
 */
export interface PipeMessage {
  'frames'?: (_raft_PipeFrame)[];
}

/**
 * One gRPC message on a Pipe: the calls (or answers) its sender made in one turn of its event loop,
 * so that a follower forwarding many clients' writes at once, or a leader answering them, pays
 * grpc-js's per-message cost once (src/transport/pipe-frames.ts).
 */
export interface PipeMessage__Output {
  'frames': (_raft_PipeFrame__Output)[];
}
