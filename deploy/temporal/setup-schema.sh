#!/usr/bin/env bash
# Creates or upgrades the Temporal server's PostgreSQL databases: the persistence one and the SQL
# visibility one. Idempotent: existing databases are kept, and only the schema versions they lack
# are applied. Run it before the server starts and after each server upgrade, as the
# temporalio/admin-tools image (docker-compose.yml) or `npm start -- --engine cluster` do.
#
# Settings (the server's deploy/temporal/config/cluster.yaml reads the same ones):
#   TEMPORAL_SQL_HOST (127.0.0.1), TEMPORAL_SQL_PORT (5432), TEMPORAL_SQL_USER (temporal),
#   TEMPORAL_SQL_PASSWORD, TEMPORAL_SQL_DATABASE (temporal),
#   TEMPORAL_SQL_VISIBILITY_DATABASE (temporal_visibility),
#   TEMPORAL_SCHEMA_DIR (/etc/temporal/schema, where admin-tools keeps the server's schema),
#   TEMPORAL_SQL_TOOL (temporal-sql-tool).
#
#   TEMPORAL_SQL_HOST=postgres TEMPORAL_SQL_PASSWORD=... bash deploy/temporal/setup-schema.sh
set -euo pipefail

SCHEMA_DIR=${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12
SQL_TOOL=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
[[ -d $SCHEMA_DIR ]] || { echo "no PostgreSQL schema at $SCHEMA_DIR: set TEMPORAL_SCHEMA_DIR to the server's schema folder" >&2; exit 2; }

sql_tool() {
  "$SQL_TOOL" --plugin postgres12 --endpoint "${TEMPORAL_SQL_HOST:-127.0.0.1}" --port "${TEMPORAL_SQL_PORT:-5432}" \
    --user "${TEMPORAL_SQL_USER:-temporal}" --password "${TEMPORAL_SQL_PASSWORD:-}" "$@"
}

# database schema-folder
for pair in "${TEMPORAL_SQL_DATABASE:-temporal} temporal" "${TEMPORAL_SQL_VISIBILITY_DATABASE:-temporal_visibility} visibility"; do
  read -r database schema <<<"$pair"
  sql_tool --database "$database" create-database
  # Version 0.0 first (only the version tables), then every versioned step it lacks.
  sql_tool --database "$database" setup-schema -v 0.0
  sql_tool --database "$database" update-schema -d "$SCHEMA_DIR/$schema/versioned"
  echo "database $database: schema up to date"
done
