{{/* Chart name, truncated to the 63 characters Kubernetes allows in a label. */}}
{{- define "generator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: <release>-<chart> unless the release name already contains it. */}}
{{- define "generator.fullname" -}}
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

{{- define "generator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "generator.labels" -}}
helm.sh/chart: {{ include "generator.chart" . }}
{{ include "generator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: exam-platform
{{- end }}

{{- define "generator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "generator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "generator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "generator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "generator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* ISO-8601 duration for KafkaSource delivery.timeout, after checking it fits the service timeout. */}}
{{- define "generator.deliveryTimeout" -}}
{{- $t := int .Values.kafkaSource.delivery.timeoutSeconds -}}
{{- if gt $t (int .Values.knative.timeoutSeconds) -}}
{{- fail (printf "kafkaSource.delivery.timeoutSeconds (%d) must not exceed knative.timeoutSeconds (%d): the function would be cut off while the source still waits" $t (int .Values.knative.timeoutSeconds)) -}}
{{- end -}}
{{- printf "PT%dS" $t -}}
{{- end }}
