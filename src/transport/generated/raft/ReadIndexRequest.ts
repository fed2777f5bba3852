// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';

export interface ReadIndexRequest {
  'header'?: (_raft_Header | null);
  'requestId'?: (string);
}

export interface ReadIndexRequest__Output {
  'header': (_raft_Header__Output | null);
  'requestId': (string);
}
