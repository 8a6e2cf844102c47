{{/* The pod template of one controller. Arguments: (list root controllerKey controllerValues). */}}
{{- define "podkit-common.pod" -}}
{{- $root := index . 0 -}}{{- $key := index . 1 -}}{{- $ctrl := index . 2 -}}
{{- $pod := mergeOverwrite (deepCopy ($root.Values.defaultPodOptions | default dict)) (deepCopy ($ctrl.pod | default dict)) -}}
{{- $ports := list -}}
{{- range $sk, $svc := $root.Values.service -}}
{{- if eq ($svc.controller | default "main") $key -}}
{{- range $pk, $p := $svc.ports -}}
{{- $ports = append $ports (dict "name" $pk "containerPort" ($p.targetPort | default $p.port) "protocol" ($p.protocol | default "TCP")) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $primary := "" -}}
{{- if $ports }}{{- $primary = (first $ports).containerPort -}}{{- end -}}
{{- $mounts := list -}}
{{- $volumes := list -}}
{{- range $vk, $v := $root.Values.persistence -}}
{{- if ne (toString $v.enabled) "false" -}}
{{- $vol := dict "name" $vk -}}
{{- if eq $v.type "persistentVolumeClaim" -}}
{{- $_ := set $vol "persistentVolumeClaim" (dict "claimName" ($v.existingClaim | default (printf "%s-%s" (include "podkit-common.fullname" $root) $vk))) -}}
{{- else if eq $v.type "emptyDir" -}}
{{- $_ := set $vol "emptyDir" dict -}}
{{- else if eq $v.type "configMap" -}}
{{- $_ := set $vol "configMap" (dict "name" $v.name) -}}
{{- else if eq $v.type "secret" -}}
{{- $_ := set $vol "secret" (dict "secretName" $v.name) -}}
{{- else if eq $v.type "hostPath" -}}
{{- $_ := set $vol "hostPath" (dict "path" $v.hostPath) -}}
{{- else if eq $v.type "nfs" -}}
{{- $_ := set $vol "nfs" (dict "server" $v.server "path" $v.path) -}}
{{- end -}}
{{- $volumes = append $volumes $vol -}}
{{- range $v.globalMounts -}}
{{- $m := dict "name" $vk "mountPath" .path -}}
{{- if .readOnly }}{{- $_ := set $m "readOnly" true -}}{{- end -}}
{{- if .subPath }}{{- $_ := set $m "subPath" .subPath -}}{{- end -}}
{{- $mounts = append $mounts $m -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $withProbes := ne ($ctrl.type | default "deployment") "cronjob" -}}
metadata:
  labels:
    {{- include "podkit-common.labels" (list $root $key) | nindent 4 }}
  {{- with $pod.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  automountServiceAccountToken: {{ $pod.automountServiceAccountToken }}
  {{- if $pod.hostNetwork }}
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  {{- end }}
  {{- with $pod.securityContext }}
  securityContext: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if not (kindIs "invalid" $pod.terminationGracePeriodSeconds) }}
  terminationGracePeriodSeconds: {{ $pod.terminationGracePeriodSeconds }}
  {{- end }}
  {{- with $pod.nodeSelector }}
  nodeSelector: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if eq ($ctrl.type | default "deployment") "cronjob" }}
  restartPolicy: {{ $pod.restartPolicy | default "OnFailure" }}
  {{- end }}
  {{- with $ctrl.initContainers }}
  initContainers:
    {{- range $ck := keys . | sortAlpha }}
    {{- include "podkit-common.container" (list $root $key $ck (index $ctrl.initContainers $ck) "" false $mounts) | nindent 4 }}
    {{- end }}
  {{- end }}
  containers:
    {{- $names := keys $ctrl.containers | sortAlpha }}
    {{- $primaryName := ternary "app" (first $names) (has "app" $names) }}
    {{- range $ck := $names }}
    {{- $cv := deepCopy (index $ctrl.containers $ck) }}
    {{- $port := "" }}
    {{- if and (eq $ck $primaryName) $ports }}{{- $_ := set $cv "ports" $ports }}{{- $port = $primary }}{{- end }}
    {{- include "podkit-common.container" (list $root $key $ck $cv $port $withProbes $mounts) | nindent 4 }}
    {{- end }}
  {{- with $volumes }}
  volumes: {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
