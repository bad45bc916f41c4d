{{- define "platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "platform.labels" -}}
helm.sh/chart: {{ include "platform.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: exam-platform
{{- end }}

{{- define "platform.kafkaNamespace" -}}
{{- default .Release.Namespace .Values.kafka.namespace }}
{{- end }}

{{/* The plain listener of the Strimzi cluster, unless notifications.brokers names others. */}}
{{- define "platform.brokers" -}}
{{- if .Values.notifications.brokers }}
{{- .Values.notifications.brokers }}
{{- else }}
{{- printf "%s-kafka-bootstrap.%s.svc.cluster.local:9092" .Values.kafka.clusterName (include "platform.kafkaNamespace" .) }}
{{- end }}
{{- end }}

{{- define "platform.queueArn" -}}
{{- printf "arn:minio:sqs::%s:kafka" .Values.notifications.targetId }}
{{- end }}
