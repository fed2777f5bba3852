// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';
import type { Long } from '@grpc/proto-loader';

export interface RequestVoteReply {
  'header'?: (_raft_Header | null);
  'granted'?: (boolean);
  'preVote'?: (boolean);
  'candidateTerm'?: (number | string | Long);
  /**
   * empty when granted
   */
  'rejectReason'?: (string);
}

export interface RequestVoteReply__Output {
  'header': (_raft_Header__Output | null);
  'granted': (boolean);
  'preVote': (boolean);
  'candidateTerm': (number);
  /**
   * empty when granted
   */
  'rejectReason': (string);
}
