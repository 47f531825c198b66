#!/usr/bin/env bash
# Makes a namespace ready for the orchestrator: creates it when missing, with a stated retention,
# and registers the orchestrator's custom search attributes (what the Temporal UI filters
# correlations by). Idempotent: an existing namespace keeps its retention (a change is a decision
# for `temporal operator namespace update`), attributes that exist with the same type are skipped.
#
# Connects like the worker, with Temporal's environment configuration: TEMPORAL_ADDRESS,
# TEMPORAL_NAMESPACE (default: default), TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_* ...
# TEMPORAL_NAMESPACE_RETENTION (default: 24h) is the retention of a namespace it creates: the
# bridge refuses to start unless SIGNALS' maximum age stays an hour below it (README, exactly once).
# Needs the `temporal` CLI on PATH (the temporalio/admin-tools image has it).
#
#   TEMPORAL_ADDRESS=temporal:7233 bash deploy/temporal/setup-namespace.sh
set -euo pipefail

NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${TEMPORAL_NAMESPACE_RETENTION:-24h}
WAIT_SECONDS=${WAIT_SECONDS:-120}

# name type: the same as src/shared/search-attributes.ts (test/search-attributes.test.ts checks it).
SEARCH_ATTRIBUTES=(
  CorrelationId Keyword
  CorrelationStatus Keyword
  DecisionAction Keyword
  DecisionRoute Keyword
  Instrument Keyword
  PolicyVersion Keyword
  PartialData Bool
  MissingAgents KeywordList
)

# A server that has just started answers its health check a little before it serves namespaces.
deadline=$((SECONDS + WAIT_SECONDS))
until temporal operator cluster health >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    echo "Temporal not serving after ${WAIT_SECONDS}s (TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-unset})" >&2
    exit 1
  fi
  sleep 1
done

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  # A second node may create it at the same moment: then it exists, which is what was wanted.
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" ||
    temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null
  echo "namespace $NAMESPACE created, retention $RETENTION"
fi

# A namespace just created reaches every frontend's cache within seconds.
until temporal operator search-attribute list --namespace "$NAMESPACE" >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    echo "namespace $NAMESPACE not usable after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 1
done

for ((i = 0; i < ${#SEARCH_ATTRIBUTES[@]}; i += 2)); do
  name=${SEARCH_ATTRIBUTES[i]}
  type=${SEARCH_ATTRIBUTES[i + 1]}
  temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
done

echo "search attributes registered in namespace $NAMESPACE"
