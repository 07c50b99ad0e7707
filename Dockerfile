# The vigil agent image. Build from the repository root:
#   docker build -t ghcr.io/vigil-health/vigil:dev .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY agent ./agent
COPY check-images ./check-images
COPY promises ./promises
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# git and ssh are for the git state store; tini reaps the check processes' zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY agent/manifests ./agent/manifests
COPY examples ./examples
USER 65534:65534
EXPOSE 7723
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/agent/src/cli/main.js"]
CMD ["agent", "--listen", "0.0.0.0:7723", "--definitions", "/etc/vigil/definitions", "--state-dir", "/var/lib/vigil/state", "--data-dir", "/var/lib/vigil/data"]
