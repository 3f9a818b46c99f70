# pve-stands: the Discord bot (default) or any `stands` command, from compiled JavaScript.
#   docker build -t pve-stands .
#   docker run --env-file .env -v "$PWD/data:/config:ro" -v stands-state:/state pve-stands            # the bot
#   docker run --env-file .env -v "$PWD/data:/config:ro" -v stands-state:/state pve-stands status     # a CLI command
# Node 22: .ci/run runs the whole test suite on Node 22 (and 24), and scripts/image-check.sh runs what this
# runtime stage contains (same COPY lines, no system fonts) on every CI run.

# ---- build: native tools for sqlite3 (compiled when its prebuilt binary cannot be downloaded) live only here ----
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
RUN npm run build \
 && npm prune --omit=dev

# ---- runtime: no compilers, no system fonts (the chart ships its own), non-root, state on a volume ----
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
ENV STANDS_CONFIG=/config
ENV STANDS_STATE=/state/state.sqlite
ENV STANDS_HEALTH_FILE=/tmp/stands-health.json
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# What `stands demo` deploys (it looks for data/ next to the program).
COPY --chown=node:node data/profiles ./data/profiles
COPY --chown=node:node data/users.example.txt ./data/
# Example configuration, for a first look: mount your own directory on /config.
COPY --chown=node:node data /config
RUN mkdir -p /state && chown node:node /state
USER node
VOLUME /state
# Unhealthy when the bot has not been connected to Discord's gateway for over a minute (or stopped writing
# its health file); CLI commands run in this image do not start the bot and are not health-checked.
HEALTHCHECK --interval=30s --timeout=10s --start-period=2m --retries=2 CMD ["node", "dist/src/cli/run.js", "health"]
ENTRYPOINT ["node", "dist/src/cli/run.js"]
CMD ["bot"]
