{{/* Names and labels. */}}
{{- define "tpi.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "tpi.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one role: api or worker. */}}
{{- define "tpi.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{/* The Secrets every deployment needs; rendering fails, naming the value, when one is missing. */}}
{{- define "tpi.validate" -}}
{{- $_ := required "secrets.existingSecret: the Secret with SECRETS_KEK, TEMPORAL_CODEC_KEY (and JWT_SECRET without auth.jwksUrl)" .Values.secrets.existingSecret -}}
{{- $_ := required "database.existingSecret: the Secret with the external Postgres URLs" .Values.database.existingSecret -}}
{{- $_ := required "temporal.address" .Values.temporal.address -}}
{{- if not (has .Values.temporal.auth (list "none" "apiKey" "mtls")) -}}
{{- fail "temporal.auth must be none, apiKey or mtls" -}}
{{- end -}}
{{- if eq .Values.temporal.auth "apiKey" -}}
{{- $_ := required "temporal.apiKey.existingSecret: the Secret with the Temporal Cloud API key" .Values.temporal.apiKey.existingSecret -}}
{{- end -}}
{{- if eq .Values.temporal.auth "mtls" -}}
{{- $_ := required "temporal.mtls.existingSecret: the kubernetes.io/tls Secret with the client certificate" .Values.temporal.mtls.existingSecret -}}
{{- end -}}
{{- if lt (int .Values.worker.shutdownGraceSeconds) 60 -}}
{{- fail "worker.shutdownGraceSeconds must be at least 60 (a data-out action's timeout)" -}}
{{- end -}}
{{- end -}}

{{/* One environment variable from a key of a Secret. */}}
{{- define "tpi.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- if .optional }}
      optional: true
{{- end }}
{{- end -}}

{{/* The environment of both roles: the ConfigMap, then secrets by reference, never by value. */}}
{{- define "tpi.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "tpi.fullname" . }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . | indent 2 }}
{{- end }}
env:
{{ include "tpi.secretEnv" (dict "name" "SECRETS_KEK" "secret" .Values.secrets.existingSecret "key" "SECRETS_KEK") | indent 2 }}
{{ include "tpi.secretEnv" (dict "name" "TEMPORAL_CODEC_KEY" "secret" .Values.secrets.existingSecret "key" "TEMPORAL_CODEC_KEY") | indent 2 }}
{{- if not .Values.auth.jwksUrl }}
{{ include "tpi.secretEnv" (dict "name" "JWT_SECRET" "secret" .Values.secrets.existingSecret "key" "JWT_SECRET") | indent 2 }}
{{- end }}
{{ include "tpi.secretEnv" (dict "name" "DATABASE_URL" "secret" .Values.database.existingSecret "key" .Values.database.ownerUrlKey) | indent 2 }}
{{ include "tpi.secretEnv" (dict "name" "DATABASE_APP_URL" "secret" .Values.database.existingSecret "key" .Values.database.appUrlKey) | indent 2 }}
{{- if eq .Values.temporal.auth "apiKey" }}
{{ include "tpi.secretEnv" (dict "name" "TEMPORAL_API_KEY" "secret" .Values.temporal.apiKey.existingSecret "key" .Values.temporal.apiKey.key) | indent 2 }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{/* Volumes: a writable /tmp (the root filesystem is read-only) and the mTLS client certificate. */}}
{{- define "tpi.volumes" -}}
volumes:
  - name: tmp
    emptyDir: {}
{{- if eq .Values.temporal.auth "mtls" }}
  - name: temporal-tls
    secret:
      secretName: {{ .Values.temporal.mtls.existingSecret }}
      defaultMode: 0400
{{- end }}
{{- end -}}

{{- define "tpi.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if eq .Values.temporal.auth "mtls" }}
  - name: temporal-tls
    mountPath: /var/run/temporal-tls
    readOnly: true
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by every pod of the chart. */}}
{{- define "tpi.podCommon" -}}
serviceAccountName: {{ include "tpi.fullname" . }}
automountServiceAccountToken: false
securityContext:
{{ toYaml .Values.podSecurityContext | indent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{- define "tpi.image" -}}
image: {{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
{{- end -}}
