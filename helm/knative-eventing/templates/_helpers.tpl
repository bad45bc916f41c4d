{{/*
Renders every upstream manifest in manifests/ (CRDs are in crds/, which Helm installs first),
merging .Values.config into the ConfigMaps of the same name. Nothing is rendered until
knative-fetch-manifests.sh has been run (helmfile's prepare hook does it).
*/}}
{{- define "knative.manifests" -}}
{{- range $path, $_ := .Files.Glob "manifests/*.yaml" }}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" ($.Files.Get $path) -1 }}
{{- $obj := fromYaml $doc }}
{{- if and $obj (hasKey $obj "kind") }}
{{- if and (eq $obj.kind "ConfigMap") (hasKey $.Values.config $obj.metadata.name) }}
{{- $data := merge (deepCopy (get $.Values.config $obj.metadata.name)) (default (dict) $obj.data) }}
{{- $_ := set $obj "data" $data }}
{{- end }}
---
{{ toYaml $obj }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Whether the upstream manifests have been fetched. */}}
{{- define "knative.fetched" -}}
{{- if .Files.Glob "manifests/*.yaml" }}true{{ end }}
{{- end }}
