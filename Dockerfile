# Lifeboat's container image: `lifeboat daemon` as a non-root user, with the PostgreSQL client AND server programs
# of one major version (pg_basebackup and pg_receivewal for backups and WAL; initdb and postgres for the drills'
# scratch servers). Not built by the tests (no container engine where they run): see README "Deployment".
#
#   docker build --build-arg PG_MAJOR=16 -t lifeboat .
#   docker run -v /path/lifeboat.yaml:/etc/lifeboat/lifeboat.yaml:ro -v lifeboat-state:/var/lib/lifeboat/state lifeboat

ARG NODE_MAJOR=24

# Build stage: the full Debian image has python3, make and g++ in case zstd-napi finds no prebuilt binary.
FROM node:${NODE_MAJOR}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: same Debian release as the build stage, so the native module links against the same glibc.
FROM node:${NODE_MAJOR}-bookworm-slim
# The PostgreSQL major version of the servers you back up (pg_basebackup refuses a newer server than itself).
ARG PG_MAJOR=15
# PostgreSQL from the PGDG apt repository (apt.postgresql.org), not Debian's: bookworm ships only PostgreSQL 15,
# PGDG every supported major, so PG_MAJOR can be any of them. postgresql-common first, told not to create a
# "main" cluster: the image needs the programs, never a running server of its own.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl postgresql-common; \
    sed -ri 's/^#?\s*create_main_cluster\s*=.*$/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}"; \
    apt-get purge -y --auto-remove curl; \
    rm -rf /var/lib/apt/lists/*
# Lifeboat finds the programs in /usr/lib/postgresql/<major>/bin by itself; on PATH too for a shell in the container.
ENV PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH

# A non-root user with a fixed uid/gid (10001: the Kubernetes example's runAsUser names it); the folders exist in
# the image owned by it, so named volumes mounted there start owned by it.
RUN set -eux; \
    groupadd --system --gid 10001 lifeboat; \
    useradd --system --uid 10001 --gid lifeboat --home-dir /var/lib/lifeboat --shell /usr/sbin/nologin lifeboat; \
    install -d -o lifeboat -g lifeboat -m 0700 /var/lib/lifeboat /var/lib/lifeboat/state /var/lib/lifeboat/repo /var/lib/lifeboat/keys; \
    install -d -m 0755 /etc/lifeboat

WORKDIR /opt/lifeboat
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY config ./config
RUN ln -s /opt/lifeboat/bin/lifeboat.js /usr/local/bin/lifeboat

ENV NODE_ENV=production \
    LIFEBOAT_CONFIG=/etc/lifeboat/lifeboat.yaml \
    LIFEBOAT_HEALTHZ_URL=http://127.0.0.1:9187/healthz
# The config's stateDir (WAL spool, locks) must point here; one volume per daemon.
VOLUME ["/var/lib/lifeboat/state"]
EXPOSE 9187
USER lifeboat

# /healthz answers while the process runs (it does not depend on Redis). Slim images have no curl: node's http.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('node:http').get(process.env.LIFEBOAT_HEALTHZ_URL, { timeout: 4000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]

ENTRYPOINT ["lifeboat"]
CMD ["daemon"]
