#!/usr/bin/env bash
# Registers the orchestrator's custom search attributes (what the Temporal UI filters correlations
# by) in one namespace. Idempotent: attributes that already exist with the same type are skipped.
#
# Connects like the worker, with Temporal's environment configuration: TEMPORAL_ADDRESS,
# TEMPORAL_NAMESPACE (default: default), TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_* ...
# Needs the `temporal` CLI on PATH (the temporalio/admin-tools image has it).
#
#   TEMPORAL_ADDRESS=temporal:7233 bash scripts/register-search-attributes.sh
set -euo pipefail

NAMESPACE=${TEMPORAL_NAMESPACE:-default}
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

# A fresh server registers its default namespace a little after it reports SERVING.
deadline=$((SECONDS + WAIT_SECONDS))
until temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    echo "namespace $NAMESPACE not reachable after ${WAIT_SECONDS}s (TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-unset})" >&2
    exit 1
  fi
  sleep 2
done

for ((i = 0; i < ${#SEARCH_ATTRIBUTES[@]}; i += 2)); do
  name=${SEARCH_ATTRIBUTES[i]}
  type=${SEARCH_ATTRIBUTES[i + 1]}
  temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
done

echo "search attributes registered in namespace $NAMESPACE"
