{{/* Every enabled controller as a Deployment, StatefulSet, DaemonSet or CronJob. */}}
{{- define "podkit-common.controllers" -}}
{{- $root := . -}}
{{- range $key := keys (.Values.controllers | default dict) | sortAlpha }}
{{- $ctrl := index $root.Values.controllers $key }}
{{- if ne (toString $ctrl.enabled) "false" }}
{{- $type := $ctrl.type | default "deployment" }}
---
{{- if eq $type "cronjob" }}
apiVersion: batch/v1
kind: CronJob
{{- else if eq $type "statefulset" }}
apiVersion: apps/v1
kind: StatefulSet
{{- else if eq $type "daemonset" }}
apiVersion: apps/v1
kind: DaemonSet
{{- else }}
apiVersion: apps/v1
kind: Deployment
{{- end }}
metadata:
  name: {{ include "podkit-common.controllerName" (list $root $key) }}
  labels:
    {{- include "podkit-common.labels" (list $root $key) | nindent 4 }}
spec:
  {{- if eq $type "cronjob" }}
  schedule: {{ $ctrl.cronjob.schedule | quote }}
  concurrencyPolicy: {{ $ctrl.cronjob.concurrencyPolicy | default "Forbid" }}
  jobTemplate:
    spec:
      backoffLimit: {{ $ctrl.cronjob.backoffLimit | default 6 }}
      template:
        {{- include "podkit-common.pod" (list $root $key $ctrl) | nindent 8 }}
  {{- else }}
  {{- if ne $type "daemonset" }}
  replicas: {{ $ctrl.replicas | default 1 }}
  {{- end }}
  {{- if eq $type "statefulset" }}
  serviceName: {{ include "podkit-common.controllerName" (list $root $key) }}
  {{- end }}
  {{- with $ctrl.strategy }}
  {{- if eq $type "deployment" }}
  strategy:
    type: {{ . }}
    {{- if and (eq . "RollingUpdate") $ctrl.rollingUpdate }}
    rollingUpdate:
      maxSurge: {{ $ctrl.rollingUpdate.surge | default 1 }}
      maxUnavailable: {{ $ctrl.rollingUpdate.unavailable | default 0 }}
    {{- end }}
  {{- else }}
  updateStrategy:
    type: {{ . }}
  {{- end }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "podkit-common.selector" (list $root $key) | nindent 6 }}
  template:
    {{- include "podkit-common.pod" (list $root $key $ctrl) | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* One Service per enabled entry of .Values.service. */}}
{{- define "podkit-common.services" -}}
{{- $root := . -}}
{{- range $key := keys (.Values.service | default dict) | sortAlpha }}
{{- $svc := index $root.Values.service $key }}
{{- if ne (toString $svc.enabled) "false" }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ ternary (include "podkit-common.fullname" $root) (printf "%s-%s" (include "podkit-common.fullname" $root) $key) (eq $key "app") }}
  labels:
    {{- include "podkit-common.labels" (list $root ($svc.controller | default "main")) | nindent 4 }}
spec:
  type: {{ $svc.type | default "ClusterIP" }}
  selector:
    {{- include "podkit-common.selector" (list $root ($svc.controller | default "main")) | nindent 4 }}
  ports:
    {{- range $pk := keys $svc.ports | sortAlpha }}
    {{- $p := index $svc.ports $pk }}
    - name: {{ $pk }}
      port: {{ $p.port }}
      targetPort: {{ $p.targetPort | default $p.port }}
      protocol: {{ $p.protocol | default "TCP" }}
    {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A PersistentVolumeClaim per persistentVolumeClaim entry without an existingClaim. */}}
{{- define "podkit-common.claims" -}}
{{- $root := . -}}
{{- range $key := keys (.Values.persistence | default dict) | sortAlpha }}
{{- $v := index $root.Values.persistence $key }}
{{- if and (ne (toString $v.enabled) "false") (eq $v.type "persistentVolumeClaim") (not $v.existingClaim) }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ printf "%s-%s" (include "podkit-common.fullname" $root) $key }}
  labels:
    app.kubernetes.io/instance: {{ $root.Release.Name }}
spec:
  accessModes:
    - {{ $v.accessMode | default "ReadWriteOnce" }}
  {{- with $v.storageClass }}
  storageClassName: {{ . }}
  {{- end }}
  resources:
    requests:
      storage: {{ $v.size | default "1Gi" }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Everything the app chart renders. */}}
{{- define "podkit-common.all" -}}
{{- include "podkit-common.controllers" . }}
{{- include "podkit-common.services" . }}
{{- include "podkit-common.claims" . }}
{{- end -}}
