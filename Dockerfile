# Relais: one image for both processes; the command picks which (docker-compose.yml):
#   worker  node dist/src/worker.js
#   api     node dist/src/api/main.js   (the default CMD)
# Build: docker build -t relais .   (or docker compose up --build)

# ---- build: all dependencies, TypeScript compiled to dist/ (rootDir ".", so dist/src/...) ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped, as on the developers' machines: the Temporal core bridge ships
# prebuilt and the workflow bundler needs none (REFERENCE.md, "npm on these machines").
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# Only src/ is in the build context's copy (see .dockerignore), so only src/ is compiled.
RUN npx tsc -p .

# ---- runtime: production dependencies, compiled code, templates; runs as a non-root user ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    API_PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# src/templates.ts reads templates from <its directory>/../templates: dist/templates here.
COPY templates ./dist/templates
# The operator pages read their views and assets next to src/ui/render.js.
COPY src/ui/views ./dist/src/ui/views
COPY src/ui/assets ./dist/src/ui/assets
# The worker bundles its workflows at start from dist/src/workflows/index.js (compiled
# JavaScript, resolved next to dist/src/worker.js), so no TypeScript source is shipped.
USER node
EXPOSE 3000
# Liveness of the API. The worker serves no HTTP: compose disables this check for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.API_PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/api/main.js"]
