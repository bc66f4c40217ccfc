# syntax=docker/dockerfile:1
#
# dt-remediator container image: three stages so that the image holds the compiled JavaScript,
# the production dependencies and the example rules, and nothing else (no TypeScript, no tap,
# no sources, no npm cache).
#
#   docker build -t dt-remediator:0.1.0 .
#   docker run --read-only -p 8080:8080 -v dtr-data:/var/lib/dt-remediator dt-remediator:0.1.0
#
# Base: Node.js 24, the current Active LTS line (SPEC 2: the image runs the current LTS; the
# package itself supports >= 20.18). bookworm-slim rather than alpine: glibc, Debian security
# updates, and the same libc the test suite runs on, so the compiled better-sqlite3 addon of the
# install stages runs unchanged in the runtime stage. Pin the digest
# (node:24-bookworm-slim@sha256:…) in your own build pipeline and let a bot bump it.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- toolchain: what compiling better-sqlite3 needs --------------------------------------------
# better-sqlite3 (the embedded store) is a native addon. Its install script downloads a prebuilt
# binary when one exists for this Node and platform, and compiles SQLite and the addon otherwise
# (node-gyp: python3, make, g++), e.g. on a new Node major or behind a proxy without GitHub.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

# --- build: compile TypeScript with the dev dependencies --------------------------------------
FROM toolchain AS build
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when they change. Install scripts are
# off for every dependency (--ignore-scripts), then run for the one that needs its own:
# better-sqlite3's (download or compile the addon).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY plugins ./plugins
COPY actions ./actions
COPY sim ./sim
# tsc, then scripts/bundle.mjs: `serve` starts from one bundle (dist/src/bundle/) rather than
# ~800 modules, about a third sooner to ready. Its code cache is made in the runtime stage.
RUN npm run build

# --- deps: production dependencies only, with the compiled addon --------------------------------
# node_modules/dt-remediator is a link to /app itself: a custom action package installed into the
# image (a derived image, docs/custom-actions.md) imports `dt-remediator` by name, and finds the
# running service there, so that it shares the service's TerminalError (the class the runner
# recognises; the bundle is handed its module rather than carrying a copy) instead of needing a
# second copy. The loader looks for such packages in /app/node_modules.
FROM toolchain AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && test -f node_modules/better-sqlite3/build/Release/better_sqlite3.node \
 && ln -s .. node_modules/dt-remediator

# --- runtime -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Runs as the image's `node` user, by number (UID/GID 1000): Kubernetes can verify runAsNonRoot
# only for a numeric USER. deploy/kubernetes/deployment.yaml runs as the same IDs (runAsUser,
# runAsGroup, fsGroup); change both together (test/deploy checks they agree).
#
# npm, npx, corepack and yarn are not needed to run the service (CMD starts node directly) and
# are removed so that their own dependencies are not part of the image's attack surface.
#
# The embedded store (SQLite: dt-remediator.db with its -wal and -shm, owner.lock, owner.json)
# writes to DTR_DATA_DIR and nowhere else; the root filesystem can be read-only. The directory is created here, owned by the runtime user, so that a plain
# `docker run` works; in Kubernetes it is a PersistentVolumeClaim made writable by fsGroup.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && mkdir -p /var/lib/dt-remediator \
 && chown 1000:1000 /var/lib/dt-remediator \
 && chmod 0700 /var/lib/dt-remediator

WORKDIR /app
# Owned by root and not writable by the runtime user: the process cannot alter its own code.
COPY package.json package-lock.json ./
# With better-sqlite3's compiled addon (build/Release/better_sqlite3.node); the toolchain stays behind.
COPY --from=deps /app/node_modules ./node_modules
# The service only: the simulators (dist/sim) are tooling for tests, the demo and trying rules
# locally, and stay out of the image; `dt-remediator sim` says so in one line here.
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/plugins ./dist/plugins
COPY --from=build /app/dist/actions ./dist/actions
COPY config ./config

# DTR_RULES_FILE stays the default, config/remediation.yaml, relative to /app: the example
# rules shipped with the product (mode: dry-run). Mount your own file and point
# DTR_RULES_FILE at it. DTR_MODE is deliberately not set: the rules file decides.
ENV DTR_DATA_DIR=/var/lib/dt-remediator
# V8's heap bounded for a pod of 128Mi-384Mi (deploy/kubernetes): the young generation at 8 MB
# per semi-space (default 16; 4 MB cost ~10% more CPU per notification), the old generation at
# 192 MB, which V8 otherwise lets grow past 300 MB under a 500-connection burst before collecting
# (the live set stays under 60 MB). npm start and the bench run with the same options.
ENV NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=192"
# The bundle's code cache (src/cli/bundle.ts: `serve` starts ~30% sooner from it), made here by
# starting the service once on a throwaway data directory (src/cli/code-cache.ts): with this
# image's node and under the NODE_OPTIONS above, since V8 takes a cache only from its own version
# and flags. Written as root, like the rest of /app: the process that runs reads it, never writes.
# Starting also proves the image can: a service that cannot start fails the build here.
RUN node dist/src/cli/code-cache.js > /dev/null
# Declared so that `docker run --read-only` without -v still gets a writable (anonymous)
# volume for the store instead of failing at start-up. Kubernetes ignores it.
VOLUME ["/var/lib/dt-remediator"]

USER 1000:1000
EXPOSE 8080
# close-with-grace handles SIGTERM: stop accepting (503), drain, close the store (up to 25 s).
# node runs as PID 1 without an init: it installs its own signal handlers and starts no child
# processes, so there is nothing to reap.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/cli.js", "serve"]
