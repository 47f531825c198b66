# The orchestrator image: one image, two processes. The default command runs the Temporal worker;
# the bridge runs the same image with `node dist/src/workers/bridge.js` (docker-compose.yml, deploy/).
#
#   docker build -t agent-orchestrator:0.1.0 .

############################ build: compile, bundle the workflows, drop dev dependencies
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app

# `npm install`, not `npm ci`: the lockfile lists only the Linux builds of the native packages, which
# `npm ci`'s strict check refuses (see scripts/bootstrap.sh). With the lockfile in sync, `npm install`
# installs exactly what it pins.
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --loglevel=error

COPY tsconfig.json tsconfig.build.json tsconfig.production.json ./
COPY src ./src
COPY scripts/bundle-workflows.js ./scripts/bundle-workflows.js
# `npm run build:production` compiles the processes, the CLI and the workflows, not the bench or the
# local stack. `npm run bundle` writes dist/workflow-bundle.js: the worker loads it
# (ORCH_WORKFLOW_BUNDLE) instead of running webpack at every start.
RUN npm run build:production && npm run bundle
RUN npm prune --omit=dev --no-audit --no-fund --loglevel=error

############################ runtime: node, the compiled code, production dependencies
FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production ORCH_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app

RUN groupadd --system --gid 10001 orchestrator \
 && useradd --system --uid 10001 --gid orchestrator --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin orchestrator

# Owned by root and read-only for the process: it never writes next to its code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

USER 10001:10001
EXPOSE 8080
# /livez answers 200 while the process runs (ORCH_HTTP_PORT, default 8080). Slim images have no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ORCH_HTTP_PORT || 8080) + '/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/workers/worker.js"]
