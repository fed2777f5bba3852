// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';

export interface TimeoutNowRequest {
  'header'?: (_raft_Header | null);
}

export interface TimeoutNowRequest__Output {
  'header': (_raft_Header__Output | null);
}
