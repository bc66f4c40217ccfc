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
# updates, and the same libc the test suite runs on; the app has no native addons (PGlite is
# WASM), so slim is all it needs. Pin the digest (node:24-bookworm-slim@sha256:…) in your own
# build pipeline and let a bot bump it.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: compile TypeScript with the dev dependencies --------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when they change. No dependency has
# an install script; --ignore-scripts keeps it that way for the ones that might add one.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY plugins ./plugins
COPY actions ./actions
COPY sim ./sim
RUN npm run build

# --- deps: production dependencies only --------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Runs as the image's `node` user, by number (UID/GID 1000): Kubernetes can verify runAsNonRoot
# only for a numeric USER. deploy/kubernetes/deployment.yaml runs as the same IDs (runAsUser,
# runAsGroup, fsGroup); change both together (test/deploy checks they agree).
#
# npm, npx, corepack and yarn are not needed to run the service (CMD starts node directly) and
# are removed so that their own dependencies are not part of the image's attack surface.
#
# The embedded store (PGlite) writes to DTR_DATA_DIR and nowhere else; the root filesystem can
# be read-only. The directory is created here, owned by the runtime user, so that a plain
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
