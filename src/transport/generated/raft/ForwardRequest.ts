// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';

export interface ForwardRequest {
  'header'?: (_raft_Header | null);
  /**
   * The state machine command (JSON), checked by the follower as the HTTP API checks it, with the
   * client's Idempotency-Key and X-Fencing-Token inside.
   */
  'command'?: (string);
}

export interface ForwardRequest__Output {
  'header': (_raft_Header__Output | null);
  /**
   * The state machine command (JSON), checked by the follower as the HTTP API checks it, with the
   * client's Idempotency-Key and X-Fencing-Token inside.
   */
  'command': (string);
}
