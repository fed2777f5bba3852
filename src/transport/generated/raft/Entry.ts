// Original file: proto/raft.proto

import type { Long } from '@grpc/proto-loader';

export interface Entry {
  'index'?: (number | string | Long);
  'term'?: (number | string | Long);
  /**
   * "normal", "noop" or "config"
   */
  'type'?: (string);
  /**
   * the state machine's command (JSON)
   */
  'data'?: (string);
  /**
   * the proposal's W3C traceparent, replicated with the entry
   */
  'context'?: (string);
}

export interface Entry__Output {
  'index': (number);
  'term': (number);
  /**
   * "normal", "noop" or "config"
   */
  'type': (string);
  /**
   * the state machine's command (JSON)
   */
  'data': (string);
  /**
   * the proposal's W3C traceparent, replicated with the entry
   */
  'context': (string);
}
