{{/* The release's full name: fullnameOverride, else the release name. */}}
{{- define "podkit-common.fullname" -}}
{{- $g := .Values.global | default dict -}}
{{- if $g.fullnameOverride -}}
{{- $g.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The name of one controller's object: the full name for "main", else full name + key. */}}
{{- define "podkit-common.controllerName" -}}
{{- $root := index . 0 -}}{{- $key := index . 1 -}}
{{- $full := include "podkit-common.fullname" $root -}}
{{- if eq $key "main" -}}{{ $full }}{{- else -}}{{ printf "%s-%s" $full $key | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "podkit-common.labels" -}}
{{- $root := index . 0 -}}{{- $key := index . 1 -}}
app.kubernetes.io/name: {{ include "podkit-common.fullname" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/controller: {{ $key }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version }}
{{- end -}}

{{- define "podkit-common.selector" -}}
{{- $root := index . 0 -}}{{- $key := index . 1 -}}
app.kubernetes.io/name: {{ include "podkit-common.fullname" $root }}
app.kubernetes.io/controller: {{ $key }}
{{- end -}}
