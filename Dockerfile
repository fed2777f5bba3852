# The raft-otel image: one image for every node, the built-in viewer and the one-shot tools
# (docker-compose.yml), running the compiled `raft-otel` command as a non-root user. Every setting comes from environment variables (RAFT_*,
# OTEL_*); see README "Node settings".

# --- build: the same build as `npm start`'s (scripts/build.mjs: esbuild compiles src/ to dist/src/
# and bundles the viewer's page into dist/viewer/), so the image runs exactly the local code ------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The build script is not here yet, so `prepare` skips the build during the install.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY scripts ./scripts
COPY src ./src
RUN node scripts/build.mjs --force

# --- runtime: Node 20 and production dependencies only ------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The gRPC service definition (and the viewer's vendored OTLP protos) are loaded at run time.
COPY proto ./proto
# The node's log, hard state and snapshots live in a volume; the image's /data belongs to `node`
# so a fresh named volume does too. Likewise /secret, where compose keeps the cluster secret.
RUN mkdir -p /data /secret && chown node:node /data /secret
VOLUME /data
ENV RAFT_DATA_DIR=/data \
    RAFT_GRPC_LISTEN=0.0.0.0:7000 \
    RAFT_HTTP_LISTEN=0.0.0.0:8000
EXPOSE 7000 8000
USER node
HEALTHCHECK --interval=5s --timeout=2s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/status').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `node` here is the process itself (PID 1 under compose's init): SIGTERM reaches it, a leader
# hands leadership over, and spans are flushed before it exits.
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["node"]
