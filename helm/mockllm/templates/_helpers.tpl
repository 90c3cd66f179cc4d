{{/* Chart name, overridable; cut to 63 characters because some Kubernetes name fields are limited to that (DNS label). */}}
{{- define "mockllm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: RELEASE-mockllm, or just RELEASE when the release name already contains the chart name. */}}
{{- define "mockllm.fullname" -}}
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

{{- define "mockllm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: immutable on a Deployment once created, so they never include versions. */}}
{{- define "mockllm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mockllm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mockllm.labels" -}}
helm.sh/chart: {{ include "mockllm.chart" . }}
{{ include "mockllm.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: mockllm
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mockllm.configMapName" -}}
{{- .Values.config.existingConfigMap | default (printf "%s-config" (include "mockllm.fullname" .)) }}
{{- end }}

{{- define "mockllm.secretName" -}}
{{- .Values.adminToken.existingSecret | default (printf "%s-admin-token" (include "mockllm.fullname" .)) }}
{{- end }}

{{- define "mockllm.adminTokenEnabled" -}}
{{- if or .Values.adminToken.value .Values.adminToken.existingSecret }}true{{ end }}
{{- end }}

{{/* "true" when values set any section of the config file, else empty. */}}
{{- define "mockllm.configOverridden" -}}
{{- range $section := list "responses" "rules" "defaults" "settings" "models" "embeddings" }}
{{- if index $.Values $section }}true{{ end }}
{{- end }}
{{- end }}

{{/*
The config file. With no section set in values it is the bundled default (a copy of
config/responses.yml) exactly as written: comments, key order and characters kept, so that
`kubectl edit configmap` shows the file a person wrote. Otherwise the file is parsed, each section
set in values replaces its own, and the result is written out again (which drops the comments).
*/}}
{{- define "mockllm.configFile" -}}
{{- if include "mockllm.configOverridden" . }}
{{- $file := .Files.Get "files/responses.yml" | fromYaml }}
{{- range $section := list "responses" "rules" "defaults" "settings" "models" "embeddings" }}
{{- $value := index $.Values $section }}
{{- if $value }}{{ $_ := set $file $section $value }}{{ end }}
{{- end }}
{{- toYaml $file }}
{{- else }}
{{- .Files.Get "files/responses.yml" | trimSuffix "\n" }}
{{- end }}
{{- end }}

{{/* The bundled Redis: its name, and labels that the mockllm Service's selector never matches. */}}
{{- define "mockllm.redisName" -}}
{{- printf "%s-redis" (include "mockllm.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mockllm.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-redis" (include "mockllm.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mockllm.redisLabels" -}}
helm.sh/chart: {{ include "mockllm.chart" . }}
{{ include "mockllm.redisSelectorLabels" . }}
app.kubernetes.io/version: {{ .Values.redis.image.tag | toString | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: state
app.kubernetes.io/part-of: mockllm
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* "true" when the pods share their state through a Redis (bundled or external), else empty. */}}
{{- define "mockllm.redisEnabled" -}}
{{- if or .Values.redis.enabled .Values.redis.url .Values.redis.existingSecret }}true{{ end }}
{{- end }}
