{{/* Names */}}
{{- define "mcpmesh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcpmesh.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "mcpmesh.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "mcpmesh.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mcpmesh.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "mcpmesh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mcpmesh
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway") */}}
{{- define "mcpmesh.selector" -}}
app.kubernetes.io/name: {{ include "mcpmesh.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mcpmesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mcpmesh.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "mcpmesh.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/*
The components this release runs, as YAML: a list of
{name, target, http (serves the gateway), grpc (serves gRPC), peers (targets it dials
at another Deployment), values}. Peers mirror meshconfig's rule: the gateway needs
transport, registry, session and health; transport needs session; session, health and
the provider need registry; health also watches transport and session.
*/}}
{{- define "mcpmesh.components" -}}
{{- if eq .Values.mode "all" }}
items:
  - name: all
    target: all
    http: true
    grpc: true
    peers: []
    values: {{ .Values.allInOne | toJson }}
{{- else }}
items:
  - name: gateway
    target: gateway
    http: true
    grpc: false
    peers: [transport, registry, session, health]
    values: {{ index .Values.components "gateway" | toJson }}
  - name: transport
    target: transport
    http: false
    grpc: true
    peers: [session]
    values: {{ index .Values.components "transport" | toJson }}
  - name: session
    target: session
    http: false
    grpc: true
    peers: [registry]
    values: {{ index .Values.components "session" | toJson }}
  - name: registry
    target: registry
    http: false
    grpc: true
    peers: []
    values: {{ index .Values.components "registry" | toJson }}
  - name: health
    target: health
    http: false
    grpc: true
    peers: [registry, transport, session]
    values: {{ index .Values.components "health" | toJson }}
  - name: provider-everything
    target: provider-everything
    http: false
    grpc: true
    peers: [registry]
    values: {{ index .Values.components "provider-everything" | toJson }}
{{- end }}
{{- end -}}

{{/*
Components that dial the providers they find in the registry (tool calls, health
checks, catalogue refreshes): their egress reaches provider-everything.
*/}}
{{- define "mcpmesh.providerCallers" -}}
[session, health, registry]
{{- end -}}

{{/* Whether a target keeps state in PostgreSQL. */}}
{{- define "mcpmesh.usesDatabase" -}}
{{- if and (ne .root.Values.database.mode "none") (has .target (list "all" "session" "registry")) -}}true{{- end -}}
{{- end -}}

{{/* The address a peer is dialed at: the headless Service without a mesh. */}}
{{- define "mcpmesh.peerAddress" -}}
{{- $svc := printf "%s-%s" (include "mcpmesh.fullname" .root) .peer -}}
{{- if eq .root.Values.serviceMesh "none" -}}{{- $svc = printf "%s-headless" $svc -}}{{- end -}}
{{ $svc }}.{{ .root.Release.Namespace }}.svc.cluster.local:{{ .root.Values.ports.grpc }}
{{- end -}}

{{/* The Secret and key holding the database URL. */}}
{{- define "mcpmesh.databaseSecret" -}}
{{- if eq .Values.database.mode "cloudnativepg" -}}
name: {{ include "mcpmesh.fullname" . }}-db-app
key: uri
{{- else if .Values.database.external.existingSecret -}}
name: {{ .Values.database.external.existingSecret }}
key: {{ .Values.database.external.existingSecretKey }}
{{- else -}}
name: {{ include "mcpmesh.fullname" . }}-database
key: url
{{- end -}}
{{- end -}}

{{/* GOMEMLIMIT: 90% of the memory limit, in bytes, so the GC works before the OOM killer. */}}
{{- define "mcpmesh.gomemlimit" -}}
{{- $m := .resources.limits.memory | toString -}}
{{- $bytes := 0 -}}
{{- if hasSuffix "Gi" $m -}}{{- $bytes = mul (trimSuffix "Gi" $m | atoi) 1073741824 -}}
{{- else if hasSuffix "Mi" $m -}}{{- $bytes = mul (trimSuffix "Mi" $m | atoi) 1048576 -}}
{{- else -}}{{- fail (printf "resources.limits.memory %q: write it in Mi or Gi" $m) -}}
{{- end -}}
{{- div (mul $bytes 9) 10 -}}
{{- end -}}
