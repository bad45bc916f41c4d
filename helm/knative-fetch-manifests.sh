#!/usr/bin/env bash
# Downloads the upstream Knative release manifests into the local wrapper charts:
#   knative-serving/crds/     serving-crds.yaml
#   knative-serving/manifests serving-core.yaml, kourier.yaml
#   knative-eventing/crds/    eventing-crds.yaml
#   knative-eventing/manifests eventing-core.yaml, eventing-kafka-controller.yaml, eventing-kafka-source.yaml
# The version is each chart's appVersion. Existing files of the same version are kept, so the
# script is cheap to run before every `helmfile apply` (the prepare hook does).
# Usage: helm/knative-fetch-manifests.sh [serving|eventing]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")"

app_version() { awk -F'"' '/^appVersion:/ {print $2}' "$1/Chart.yaml"; }

fetch() { # chart subdir url
  local dest="$1/$2/$(basename "$3")" stamp="$1/$2/.version"
  mkdir -p "$1/$2"
  if [ -s "$dest" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$(app_version "$1")" ]; then return; fi
  echo "fetching $3"
  curl --fail --silent --show-error --location --retry 3 -o "$dest.part" "$3"
  mv "$dest.part" "$dest"
}

stamp() { for d in crds manifests; do app_version "$1" > "$1/$d/.version"; done; }

components=("$@"); [ ${#components[@]} -eq 0 ] && components=(serving eventing)
for c in "${components[@]}"; do
  case "$c" in
    serving)
      v=$(app_version knative-serving)
      fetch knative-serving crds "https://github.com/knative/serving/releases/download/knative-v$v/serving-crds.yaml"
      fetch knative-serving manifests "https://github.com/knative/serving/releases/download/knative-v$v/serving-core.yaml"
      fetch knative-serving manifests "https://github.com/knative-extensions/net-kourier/releases/download/knative-v$v/kourier.yaml"
      stamp knative-serving ;;
    eventing)
      v=$(app_version knative-eventing)
      fetch knative-eventing crds "https://github.com/knative/eventing/releases/download/knative-v$v/eventing-crds.yaml"
      fetch knative-eventing manifests "https://github.com/knative/eventing/releases/download/knative-v$v/eventing-core.yaml"
      fetch knative-eventing manifests "https://github.com/knative-extensions/eventing-kafka-broker/releases/download/knative-v$v/eventing-kafka-controller.yaml"
      fetch knative-eventing manifests "https://github.com/knative-extensions/eventing-kafka-broker/releases/download/knative-v$v/eventing-kafka-source.yaml"
      stamp knative-eventing ;;
    *) echo "unknown component $c (serving or eventing)" >&2; exit 2 ;;
  esac
done
