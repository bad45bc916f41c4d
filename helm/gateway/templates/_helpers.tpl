{{/* Chart name, truncated to the 63 characters Kubernetes allows in a label. */}}
{{- define "gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: <release>-<chart> unless the release name already contains it. */}}
{{- define "gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gateway.labels" -}}
helm.sh/chart: {{ include "gateway.chart" . }}
{{ include "gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: exam-platform
{{- end }}

{{- define "gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The Ingress body limit: the upload limit plus room for the multipart envelope. */}}
{{- define "gateway.bodyLimit" -}}
{{- printf "%dm" (add (int .Values.config.maxUploadMB) 1) }}
{{- end }}

{{/* EXAM_PUBLIC_URL: publicUrl, else the Ingress host (https with TLS), else empty. */}}
{{- define "gateway.publicUrl" -}}
{{- if .Values.publicUrl }}
{{- .Values.publicUrl | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.host }}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host }}
{{- end }}
{{- end }}

{{/* EXAM_TRUST_FORWARDED_FOR: auth.trustForwardedFor, else whether every request comes through
the chart's Ingress/HTTPRoute (enabled, and the Service is not reachable from outside). */}}
{{- define "gateway.trustForwardedFor" -}}
{{- if kindIs "bool" .Values.auth.trustForwardedFor }}
{{- .Values.auth.trustForwardedFor }}
{{- else }}
{{- and (or .Values.ingress.enabled .Values.httpRoute.enabled) (eq .Values.service.type "ClusterIP") }}
{{- end }}
{{- end }}

{{/* Where the admin password Secret key is mounted (a file, never an environment value). */}}
{{- define "gateway.adminPasswordDir" -}}
/etc/exam-admin
{{- end }}
