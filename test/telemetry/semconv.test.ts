// The semantic conventions raft-otel pins (src/telemetry/semconv.ts): every name it copies is the
// one of that released version, as @opentelemetry/semantic-conventions of the same version (a dev
// dependency, pinned exactly) spells it, and the schema URL names that version.
import { readFileSync } from 'node:fs';
import * as stable from '@opentelemetry/semantic-conventions';
import { describe, expect, it } from 'vitest';
import { SCHEMA_URL, SEMCONV, SEMCONV_VERSION, serviceVersion } from '../../src/telemetry/semconv.js';

const pkg = (path: string) =>
  JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as Record<string, unknown>;

describe('the pinned semantic conventions', () => {
  it('are those of the exactly pinned @opentelemetry/semantic-conventions', () => {
    const ours = pkg('../../package.json') as { devDependencies: Record<string, string> };
    expect(ours.devDependencies['@opentelemetry/semantic-conventions']).toBe(SEMCONV_VERSION);
    expect(pkg('../../node_modules/@opentelemetry/semantic-conventions/package.json').version).toBe(SEMCONV_VERSION);
    expect(SCHEMA_URL).toBe(`https://opentelemetry.io/schemas/${SEMCONV_VERSION}`);
  });

  it('spell every name as that version does (all stable there)', () => {
    expect(SEMCONV).toEqual({
      serviceName: stable.ATTR_SERVICE_NAME,
      serviceVersion: stable.ATTR_SERVICE_VERSION,
      serviceNamespace: stable.ATTR_SERVICE_NAMESPACE,
      serviceInstanceId: stable.ATTR_SERVICE_INSTANCE_ID,
      rpcSystemName: stable.ATTR_RPC_SYSTEM_NAME,
      rpcMethod: stable.ATTR_RPC_METHOD,
      rpcStatusCode: stable.ATTR_RPC_STATUS_CODE,
      serverAddress: stable.ATTR_SERVER_ADDRESS,
      serverPort: stable.ATTR_SERVER_PORT,
      errorType: stable.ATTR_ERROR_TYPE,
      httpRequestMethod: stable.ATTR_HTTP_REQUEST_METHOD,
      httpRoute: stable.ATTR_HTTP_ROUTE,
      httpResponseStatusCode: stable.ATTR_HTTP_RESPONSE_STATUS_CODE,
      urlPath: stable.ATTR_URL_PATH,
      rpcClientCallDuration: stable.METRIC_RPC_CLIENT_CALL_DURATION,
    });
  });

  it('give service.version from package.json', () => {
    expect(serviceVersion()).toBe(pkg('../../package.json').version);
  });
});
