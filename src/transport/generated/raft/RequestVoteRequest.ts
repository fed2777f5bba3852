// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';
import type { Long } from '@grpc/proto-loader';

export interface RequestVoteRequest {
  'header'?: (_raft_Header | null);
  'lastLogIndex'?: (number | string | Long);
  'lastLogTerm'?: (number | string | Long);
  'preVote'?: (boolean);
  'transfer'?: (boolean);
}

export interface RequestVoteRequest__Output {
  'header': (_raft_Header__Output | null);
  'lastLogIndex': (number);
  'lastLogTerm': (number);
  'preVote': (boolean);
  'transfer': (boolean);
}
