# pve-stands: the Discord bot (default) or any `stands` command, from compiled JavaScript.
#   docker build -t pve-stands .
#   docker run --env-file .env -v "$PWD/data:/config:ro" -v stands-state:/state pve-stands            # the bot
#   docker run --env-file .env -v "$PWD/data:/config:ro" -v stands-state:/state pve-stands status     # a CLI command

# ---- build: native tools for sqlite3 live only here ----
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

# ---- runtime: no compilers, non-root, state on a volume ----
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    STANDS_CONFIG=/config \
    STANDS_STATE=/state/state.sqlite
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# Example configuration, for a first look: mount your own directory on /config.
COPY --chown=node:node data /config
RUN mkdir -p /state && chown node:node /state
USER node
VOLUME /state
ENTRYPOINT ["node", "dist/src/cli/run.js"]
CMD ["bot"]
