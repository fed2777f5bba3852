// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';
import type { Long } from '@grpc/proto-loader';

export interface ForwardReply {
  'header'?: (_raft_Header | null);
  /**
   * When the write was applied: its result (JSON) and the index of the entry that carried it.
   */
  'result'?: (string);
  'index'?: (number | string | Long);
  /**
   * When it was not: the HTTP status, error code, message and extra fields (JSON object) the
   * client is answered with. error_status is 0 on success.
   */
  'errorStatus'?: (number);
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'errorExtra'?: (string);
}

export interface ForwardReply__Output {
  'header': (_raft_Header__Output | null);
  /**
   * When the write was applied: its result (JSON) and the index of the entry that carried it.
   */
  'result': (string);
  'index': (number);
  /**
   * When it was not: the HTTP status, error code, message and extra fields (JSON object) the
   * client is answered with. error_status is 0 on success.
   */
  'errorStatus': (number);
  'errorCode': (string);
  'errorMessage': (string);
  'errorExtra': (string);
}
