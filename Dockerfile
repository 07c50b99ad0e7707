# The vigil image: the agent (local or Kubernetes mode) and the `vigil k8s-adapter` container of
# check pods (Kubernetes mode runs this same image as the last container of every check pod).
# Build from the repository root:
#   docker build -t ghcr.io/vigil-health/vigil:dev .

# ---- build: full dependencies, TypeScript compile, then drop the dev dependencies
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY agent ./agent
COPY check-images ./check-images
COPY promises ./promises
COPY bench ./bench
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: Node 20, production dependencies and the compiled code only
FROM node:20-bookworm-slim
LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.description="Runs Kratix HealthDefinitions and writes HealthRecords" \
      org.opencontainers.image.source="https://github.com/vigil-health/vigil" \
      org.opencontainers.image.licenses="Apache-2.0"
# git and ssh are for the git state store; tini forwards signals and reaps the check processes' zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The dashboard's static files are read from the package at run time.
COPY agent/src/server/dashboard/static ./agent/src/server/dashboard/static
# The CRDs are read at run time (definition and record validation).
COPY agent/manifests ./agent/manifests
COPY examples ./examples
# The agent's data and state directories, owned by the unprivileged user.
RUN mkdir -p /var/lib/vigil/data /var/lib/vigil/state /etc/vigil/definitions \
 && chown -R 65534:65534 /var/lib/vigil
# A numeric non-root user, so Kubernetes can verify runAsNonRoot. Nothing is written outside
# /var/lib/vigil and /tmp: the image works with readOnlyRootFilesystem.
USER 65534:65534
EXPOSE 7723
# The default command listens on all interfaces, so it is read-only: the agent refuses mutating
# endpoints (run-now, reports, signals) on a non-loopback address without a token. To enable them,
# set VIGIL_TOKEN (>= 16 characters) or mount server.tokenFile, and drop --read-only.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/agent/src/cli/main.js"]
CMD ["agent", "--listen", "0.0.0.0:7723", "--read-only", "--definitions", "/etc/vigil/definitions", "--state-dir", "/var/lib/vigil/state", "--data-dir", "/var/lib/vigil/data"]
