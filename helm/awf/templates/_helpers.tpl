{{/* Chart name. */}}
{{- define "awf.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "awf.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "awf.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object. */}}
{{- define "awf.labels" -}}
helm.sh/chart: {{ include "awf.chart" . }}
app.kubernetes.io/name: {{ include "awf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: awf
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "api"). */}}
{{- define "awf.selectorLabels" -}}
app.kubernetes.io/name: {{ include "awf.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "awf.componentLabels" -}}
{{ include "awf.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "awf.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "awf.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "awf.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "awf.redisHost" -}}
{{- printf "%s-redis" (include "awf.fullname" .) -}}
{{- end -}}

{{/* host:port of Redis for KEDA's scaler. */}}
{{- define "awf.redisAddress" -}}
{{- if .Values.redis.external.enabled -}}
{{- .Values.redis.external.address -}}
{{- else -}}
{{- printf "%s:6379" (include "awf.redisHost" .) -}}
{{- end -}}
{{- end -}}

{{/* Pod-level security: non-root, RuntimeDefault seccomp, no service-account token. */}}
{{- define "awf.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "awf.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities:
    drop: [ALL]
{{- end -}}

{{/* The environment of every awf container: config file, secrets, Redis URL. */}}
{{- define "awf.env" -}}
- name: AWF_ENV
  value: {{ .Values.env | quote }}
- name: AWF_CONFIG
  value: /etc/awf/config.yml
{{- range $name := list "JWT_SECRET" "ENCRYPTION_KEY" }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.secrets.existingSecret }}
      key: {{ $name }}
{{- end }}
{{- range $name := list "DISCORD_BOT_TOKEN" "ANTHROPIC_API_KEY" "OPENAI_API_KEY" "SENTRY_DSN" }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.secrets.existingSecret }}
      key: {{ $name }}
      optional: true
{{- end }}
{{- if .Values.redis.external.enabled }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: REDIS_URL
{{- else }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379/0" (include "awf.redisHost" .) | quote }}
{{- end }}
{{- with .Values.monitoring.otlpEndpoint }}
- name: MONITORING__OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Worker and gateway: serve /metrics on monitoring.metricsPort (env, then the container port). */}}
{{- define "awf.metricsEnv" -}}
{{- with .Values.monitoring.metricsPort }}
- name: MONITORING__METRICS_PORT
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "awf.metricsPorts" -}}
{{- with .Values.monitoring.metricsPort }}
ports:
  - name: metrics
    containerPort: {{ . }}
    protocol: TCP
{{- end }}
{{- end -}}

{{/* Volumes every awf pod mounts: the config file and a private /tmp. */}}
{{- define "awf.volumes" -}}
- name: config
  configMap:
    name: {{ include "awf.fullname" .ctx }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .tmpSize }}
{{- end -}}

{{- define "awf.volumeMounts" -}}
- name: config
  mountPath: /etc/awf
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Pod annotations: restart pods when the config changes. */}}
{{- define "awf.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end -}}

{{- define "awf.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
