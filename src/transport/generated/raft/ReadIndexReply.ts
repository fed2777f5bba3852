// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';
import type { Long } from '@grpc/proto-loader';

export interface ReadIndexReply {
  'header'?: (_raft_Header | null);
  'requestId'?: (string);
  /**
   * -1 when the leader could not serve it
   */
  'index'?: (number | string | Long);
}

export interface ReadIndexReply__Output {
  'header': (_raft_Header__Output | null);
  'requestId': (string);
  /**
   * -1 when the leader could not serve it
   */
  'index': (number);
}
