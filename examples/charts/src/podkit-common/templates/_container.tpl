{{/*
One container. Arguments: (list root controllerKey containerKey containerValues primaryPort withProbes mounts).
The container is merged over .Values.containerDefaults first: chart defaults < the release's values.
*/}}
{{- define "podkit-common.container" -}}
{{- $root := index . 0 -}}{{- $name := index . 2 -}}{{- $given := index . 3 -}}
{{- $port := index . 4 -}}{{- $withProbes := index . 5 -}}{{- $mounts := index . 6 -}}
{{- $c := mergeOverwrite (deepCopy ($root.Values.containerDefaults | default dict)) (deepCopy $given) -}}
- name: {{ $name }}
  image: {{ printf "%s:%s" $c.image.repository (toString ($c.image.tag | default "latest")) | quote }}
  {{- with $c.image.pullPolicy }}
  imagePullPolicy: {{ . }}
  {{- end }}
  {{- with $c.command }}
  command: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.args }}
  args: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.env }}
  env:
    {{- range $k, $v := . }}
    - name: {{ $k }}
      {{- if kindIs "map" $v }}
      {{- toYaml $v | nindent 6 }}
      {{- else }}
      value: {{ toString $v | quote }}
      {{- end }}
    {{- end }}
  {{- end }}
  {{- with $c.envFrom }}
  envFrom: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.ports }}
  ports:
    {{- range . }}
    - name: {{ .name }}
      containerPort: {{ .containerPort }}
      protocol: {{ .protocol | default "TCP" }}
    {{- end }}
  {{- end }}
  {{- if $withProbes }}
  {{- range $kind := list "liveness" "readiness" "startup" }}
  {{- $p := index ($c.probes | default dict) $kind | default dict }}
  {{- if $p.enabled }}
  {{- if $p.custom }}
  {{ $kind }}Probe: {{- toYaml $p.spec | nindent 4 }}
  {{- else }}
  {{- $pp := $p.port | default $port }}
  {{- if $pp }}
  {{ $kind }}Probe:
    {{- if eq ($p.type | default "TCP") "HTTP" }}
    httpGet:
      path: {{ $p.path | default "/" }}
      port: {{ $pp }}
    {{- else }}
    tcpSocket:
      port: {{ $pp }}
    {{- end }}
    initialDelaySeconds: 0
    periodSeconds: 10
    timeoutSeconds: 1
    failureThreshold: 3
  {{- end }}
  {{- end }}
  {{- end }}
  {{- end }}
  {{- end }}
  {{- with $c.resources }}
  resources: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.securityContext }}
  securityContext: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $mounts }}
  volumeMounts: {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
