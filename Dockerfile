# syntax=docker/dockerfile:1
#
# mockllm image. Build: docker build -t mockllm .   Run: docker run --rm -p 8000:8000 mockllm
#
# Base: the official node:24-alpine. Every runtime dependency is pure JavaScript (no native addons
# that would need glibc) and the TypeScript 7 compiler used at build time is a statically linked Go
# binary, so musl costs nothing here while the image is several times smaller than -slim, and
# Alpine packages tini. All stages share one base so the node_modules built for it match at run time.

# --- build: full install (TypeScript and other dev tools) and compile src/ to dist/ ---------------
FROM node:24-alpine AS build
WORKDIR /app
# The lockfile alone decides the dependency layer, so source edits reuse the cached install.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build's own steps after tsc: precompiled validators, the packed tokenizer vocabulary.
COPY scripts ./scripts
RUN npm run build

# --- prod-deps: production dependencies only, installed apart so no npm cache or dev package
# reaches the runtime layers ---------------------------------------------------------------------
FROM node:24-alpine AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------------
FROM node:24-alpine AS runtime
# Node as PID 1 would not get default signal handling and would not reap orphans; tini forwards
# SIGTERM (docker stop, a pod's termination) to the server and reaps zombies.
RUN apk add --no-cache tini
LABEL org.opencontainers.image.title="mockllm" \
      org.opencontainers.image.description="A mock LLM server speaking the OpenAI and Anthropic HTTP APIs, answering from a hot-reloaded YAML file" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# HOST=0.0.0.0: the CLI's default (127.0.0.1) would be unreachable from outside the container.
# The config lives in its own directory so a ConfigMap or a bind mount can replace the whole
# directory; the server watches the directory, which is what makes those mounts hot-reload.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_LEVEL=info \
    MOCKLLM_CONFIG=/config/responses.yml
# package.json is needed at run time: its "type": "module" makes Node load dist/*.js as ESM.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The default answers, used when nothing is mounted over /config.
COPY config/responses.yml /config/responses.yml
# Files stay root-owned, so the server cannot modify its own code or config even where the root
# filesystem is writable. Numeric uid (the image's "node" user) so Kubernetes' runAsNonRoot can
# verify it without resolving names.
USER 1000:1000
EXPOSE 8000
# Node's own fetch, so the image needs no curl or wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Arguments to `docker run IMAGE ...` are appended as CLI flags, e.g. --log-level debug.
ENTRYPOINT ["/sbin/tini", "--", "node", "/app/dist/cli.js"]
