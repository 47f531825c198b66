#!/usr/bin/env bash
# Renders kustomizations with the real kustomize and validates what they render with kubeconform:
# strictly (a misspelt or unknown field is an error), offline, against the schemas pinned in
# test/fixtures/k8s-schemas only (Kubernetes' built-in kinds of one release, KEDA's and the
# Prometheus Operator's CRDs), so that a kind without a schema there fails instead of being skipped.
#
#   scripts/check-deploy.sh                        # every kustomization under deploy/
#   scripts/check-deploy.sh deploy/overlays/prod   # these (folders with a kustomization.yaml)
#
# Components (deploy/components) are checked through a kustomization that uses them. Needs
# kustomize and kubeconform from scripts/install-tools.sh. Exits 1 when any check fails.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=${ORCH_TOOLS_DIR:-$REPO_DIR/.tools}/bin
SCHEMAS_DIR=$REPO_DIR/test/fixtures/k8s-schemas

for tool in kustomize kubeconform; do
  if [[ ! -x $BIN_DIR/$tool ]]; then
    echo "check-deploy: $tool not found in $BIN_DIR: run bash scripts/install-tools.sh --only $tool" >&2
    exit 2
  fi
done
# The Kubernetes release the built-in schemas are of, from their folder (v<release>-standalone-strict).
K8S_VERSION=$(find "$SCHEMAS_DIR" -maxdepth 1 -name 'v*-standalone-strict' | sed 's|.*/v\(.*\)-standalone-strict$|\1|')
[[ $K8S_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "check-deploy: no single v<release>-standalone-strict folder in $SCHEMAS_DIR" >&2; exit 2; }

dirs=("$@")
if (($# == 0)); then
  # Folders in byte order, whatever the locale: deploy/overlays/prod before deploy/overlays/prod-versioned.
  while IFS= read -r dir; do
    grep -q '^kind: Component' "$dir/kustomization.yaml" || dirs+=("$dir")
  done < <(find "$REPO_DIR/deploy" -name kustomization.yaml -exec dirname {} \; | LC_ALL=C sort)
fi

failed=0
for dir in "${dirs[@]}"; do
  echo "== ${dir#"$REPO_DIR"/}"
  # Built-in kinds in kubeconform's own layout under SCHEMAS_DIR; CRDs as <group>/<kind>_<version>.json.
  if ! "$BIN_DIR/kustomize" build "$dir" | "$BIN_DIR/kubeconform" -strict -summary -kubernetes-version "$K8S_VERSION" \
    -schema-location "$SCHEMAS_DIR" \
    -schema-location "$SCHEMAS_DIR/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" -; then
    failed=1
  fi
done
exit $failed
