{{/*
Shared templates. Every service (gateway, participant, matching, scheduling,
evaluation) is rendered from the same Deployment, Service, PDB, HPA,
ServiceAccount, NetworkPolicy and migration Job templates below, called with
a context `dict "root" $ "name" <service>`.
*/}}

{{- define "tandem.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name prefix: release name, plus the chart name unless it is already in it. */}}
{{- define "tandem.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of a service's resources: <fullname>-<service>. */}}
{{- define "tandem.componentName" -}}
{{- printf "%s-%s" (include "tandem.fullname" .root) .name }}
{{- end }}

{{- define "tandem.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; takes the root context. */}}
{{- define "tandem.labels" -}}
helm.sh/chart: {{ include "tandem.chart" . }}
app.kubernetes.io/name: {{ include "tandem.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tandem
{{- end }}

{{/* Labels selecting all pods of this release; takes the root context. */}}
{{- define "tandem.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "tandem.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels selecting one service's pods; takes (dict "root" "name"). */}}
{{- define "tandem.selectorLabels" -}}
{{ include "tandem.releaseSelectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Object labels of one service; takes (dict "root" "name"). */}}
{{- define "tandem.componentLabels" -}}
{{ include "tandem.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Image reference of a service: registry/repository/service, by digest when set. */}}
{{- define "tandem.image" -}}
{{- $root := .root }}
{{- $svc := index $root.Values.services .name }}
{{- $repo := default (printf "%s/%s" $root.Values.image.repository .name) $svc.image.repository }}
{{- $ref := printf "%s/%s" $root.Values.image.registry $repo }}
{{- if $svc.image.digest }}
{{- printf "%s@%s" $ref $svc.image.digest }}
{{- else }}
{{- printf "%s:%s" $ref (default $root.Chart.AppVersion $root.Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "tandem.secretName" -}}
{{- default (printf "%s-secrets" (include "tandem.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "tandem.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create }}
{{- include "tandem.componentName" . }}
{{- else }}
{{- "default" }}
{{- end }}
{{- end }}

{{/*
Pod Security Standards "restricted": non-root (65532, the distroless
"nonroot" user), RuntimeDefault seccomp, no privilege escalation, no
capabilities, read-only root file system.
*/}}
{{- define "tandem.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "tandem.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Environment of a service, shared by its Deployment and its migration Job;
takes (dict "root" "name").
*/}}
{{- define "tandem.env" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $secret := include "tandem.secretName" $root -}}
- name: TANDEM_GRPC_ADDR
  value: ":9090"
- name: TANDEM_ADMIN_ADDR
  value: ":9464"
- name: TANDEM_OIDC_ISSUER
  value: {{ $v.oidc.issuer | quote }}
- name: TANDEM_OIDC_JWKS_URL
  value: {{ $v.oidc.jwksURL | quote }}
- name: TANDEM_OIDC_AUDIENCE
  value: {{ $v.oidc.audience | quote }}
- name: TANDEM_DRAIN_DELAY
  value: {{ $v.drainDelay | quote }}
- name: TANDEM_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
{{- with $v.otlp.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_EXPORTER_OTLP_INSECURE
  value: {{ $v.otlp.insecure | quote }}
{{- end }}
- name: GOMEMLIMIT
  valueFrom:
    resourceFieldRef:
      resource: limits.memory
{{- if $v.nats.urlFromSecret }}
- name: TANDEM_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $v.secrets.keys.natsURL }}
{{- else }}
- name: TANDEM_NATS_URL
  value: {{ $v.nats.url | quote }}
{{- end }}
- name: TANDEM_STREAM
  value: {{ $v.nats.stream | quote }}
- name: TANDEM_SUBJECT_PREFIX
  value: {{ $v.nats.subjectPrefix | quote }}
{{- if eq .name "gateway" }}
# Refused calls are published as audit.access_denied events.
- name: TANDEM_AUDIT_EVENTS
  value: "true"
- name: TANDEM_HTTP_ADDR
  value: ":8080"
{{- range $backend := list "participant" "matching" "scheduling" "evaluation" }}
- name: TANDEM_{{ upper $backend }}_ADDR
  value: {{ printf "%s:9090" (include "tandem.componentName" (dict "root" $root "name" $backend)) | quote }}
{{- end }}
{{- with $v.gateway.rateLimit }}
- name: TANDEM_RATE_TENANT_PER_SECOND
  value: {{ .tenantPerSecond | quote }}
- name: TANDEM_RATE_TENANT_BURST
  value: {{ .tenantBurst | quote }}
- name: TANDEM_RATE_CLIENT_PER_SECOND
  value: {{ .clientPerSecond | quote }}
- name: TANDEM_RATE_CLIENT_BURST
  value: {{ .clientBurst | quote }}
{{- end }}
{{- if $v.redis.enabled }}
- name: TANDEM_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $v.secrets.keys.redisURL }}
- name: TANDEM_REDIS_PREFIX
  value: {{ $v.redis.prefix | quote }}
{{- end }}
{{- else }}
- name: TANDEM_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ index $v.secrets.keys.databaseURL .name }}
{{- if $v.redis.enabled }}
- name: TANDEM_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $v.secrets.keys.redisURL }}
- name: TANDEM_REDIS_PREFIX
  value: {{ $v.redis.prefix | quote }}
{{- end }}
{{- if has .name (list "participant" "matching" "scheduling" "evaluation") }}
- name: TANDEM_PAGE_TOKEN_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $v.secrets.keys.pageTokenKey }}
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* A service's Deployment; takes (dict "root" "name"). */}}
{{- define "tandem.deployment" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $svc := index $v.services .name -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "tandem.componentName" . }}
  labels:
    {{- include "tandem.componentLabels" . | nindent 4 }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "tandem.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "tandem.componentLabels" . | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- if not $v.secrets.existingSecret }}
        {{- /* Rolls the pods when the chart-made Secret changes (a generated page-token key never does). */}}
        checksum/secrets: {{ toJson $v.secrets.create | sha256sum }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "tandem.serviceAccountName" . }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "tandem.podSecurityContext" . | nindent 8 }}
      containers:
        - name: {{ .name }}
          image: {{ include "tandem.image" . }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          securityContext:
            {{- include "tandem.containerSecurityContext" . | nindent 12 }}
          ports:
            - name: grpc
              containerPort: 9090
              protocol: TCP
            {{- if eq .name "gateway" }}
            - name: http
              containerPort: 8080
              protocol: TCP
            {{- end }}
            - name: metrics
              containerPort: 9464
              protocol: TCP
          env:
            {{- include "tandem.env" . | nindent 12 }}
            {{- if and $v.migrations.enabled (ne .name "gateway") }}
            - name: TANDEM_MIGRATIONS
              value: skip
            {{- end }}
            {{- with $svc.env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          # Ready while grpc.health.v1 answers SERVING: false during start-up
          # and during the drain before a stop.
          readinessProbe:
            grpc:
              port: 9090
            periodSeconds: 5
            failureThreshold: 2
            timeoutSeconds: 2
          # Alive while the process answers on the admin port; unaffected
          # by the drain and by unreachable dependencies.
          livenessProbe:
            httpGet:
              path: /livez
              port: metrics
            periodSeconds: 10
            failureThreshold: 3
            timeoutSeconds: 2
          startupProbe:
            httpGet:
              path: /livez
              port: metrics
            periodSeconds: 2
            failureThreshold: 30
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      affinity:
        {{- if $v.affinity }}
        {{- toYaml $v.affinity | nindent 8 }}
        {{- else }}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- include "tandem.selectorLabels" . | nindent 20 }}
        {{- end }}
      {{- with $v.topologySpreadConstraints }}
      {{- $constraints := list }}
      {{- range . }}
      {{- $constraints = append $constraints (merge (dict) . (dict "labelSelector" (dict "matchLabels" (include "tandem.selectorLabels" $ | fromYaml)))) }}
      {{- end }}
      topologySpreadConstraints:
        {{- toYaml $constraints | nindent 8 }}
      {{- end }}
{{- end }}

{{/* A service's Service; takes (dict "root" "name"). */}}
{{- define "tandem.service" -}}
{{- $v := .root.Values -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "tandem.componentName" . }}
  labels:
    {{- include "tandem.componentLabels" . | nindent 4 }}
  {{- if and (eq .name "gateway") $v.gateway.service.annotations }}
  annotations:
    {{- toYaml $v.gateway.service.annotations | nindent 4 }}
  {{- end }}
spec:
  {{- if eq .name "gateway" }}
  type: {{ $v.gateway.service.type }}
  {{- else }}
  # Headless: DNS names every pod, so the gateway balances per call.
  type: ClusterIP
  clusterIP: None
  {{- end }}
  selector:
    {{- include "tandem.selectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: 9090
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    {{- if eq .name "gateway" }}
    - name: http
      port: 8080
      targetPort: http
      protocol: TCP
      appProtocol: http
    {{- end }}
    - name: metrics
      port: 9464
      targetPort: metrics
      protocol: TCP
      appProtocol: http
{{- end }}

{{/* A service's PodDisruptionBudget; takes (dict "root" "name"). */}}
{{- define "tandem.pdb" -}}
{{- $svc := index .root.Values.services .name -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "tandem.componentName" . }}
  labels:
    {{- include "tandem.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $svc.pdb.maxUnavailable }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "tandem.selectorLabels" . | nindent 6 }}
{{- end }}

{{/* A service's HorizontalPodAutoscaler; takes (dict "root" "name"). */}}
{{- define "tandem.hpa" -}}
{{- $as := (index .root.Values.services .name).autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "tandem.componentName" . }}
  labels:
    {{- include "tandem.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "tandem.componentName" . }}
  minReplicas: {{ $as.minReplicas }}
  maxReplicas: {{ $as.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $as.targetCPUUtilizationPercentage }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
{{- end }}

{{/* A service's ServiceAccount (no token is mounted); takes (dict "root" "name"). */}}
{{- define "tandem.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "tandem.componentName" . }}
  labels:
    {{- include "tandem.componentLabels" . | nindent 4 }}
  {{- with .root.Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end }}

{{/* An egress rule ({to, ports}); an empty `to` allows any destination on those ports. */}}
{{- define "tandem.egressRule" -}}
{{- $rule := dict "ports" .ports }}
{{- with .to }}
{{- $_ := set $rule "to" . }}
{{- end }}
{{- toYaml (list $rule) }}
{{- end }}

{{/* A service's NetworkPolicy: the flows it needs; takes (dict "root" "name"). */}}
{{- define "tandem.networkPolicy" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $np := $v.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "tandem.componentName" . }}
  labels:
    {{- include "tandem.componentLabels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "tandem.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    {{- if eq .name "gateway" }}
    # Clients and the ingress controller: HTTP/JSON and gRPC.
    - ports:
        - {port: 8080, protocol: TCP}
        - {port: 9090, protocol: TCP}
      {{- with $np.gatewayFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- else }}
    # The gateway only.
    - from:
        - podSelector:
            matchLabels:
              {{- include "tandem.selectorLabels" (dict "root" $root "name" "gateway") | nindent 14 }}
      ports:
        - {port: 9090, protocol: TCP}
    {{- end }}
    # Prometheus.
    - ports:
        - {port: 9464, protocol: TCP}
      {{- with $np.metricsFrom }}
      from:
        {{- toYaml . | nindent 8 }}
      {{- end }}
  egress:
    {{- include "tandem.egressRule" $np.egress.dns | nindent 4 }}
    {{- include "tandem.egressRule" $np.egress.oidc | nindent 4 }}
    {{- if $v.otlp.endpoint }}
    {{- include "tandem.egressRule" $np.egress.otlp | nindent 4 }}
    {{- end }}
    {{- if eq .name "gateway" }}
    - to:
        {{- range $backend := list "participant" "matching" "scheduling" "evaluation" }}
        - podSelector:
            matchLabels:
              {{- include "tandem.selectorLabels" (dict "root" $root "name" $backend) | nindent 14 }}
        {{- end }}
      ports:
        - {port: 9090, protocol: TCP}
    {{- include "tandem.egressRule" $np.egress.nats | nindent 4 }}
    {{- if $v.redis.enabled }}
    {{- include "tandem.egressRule" $np.egress.redis | nindent 4 }}
    {{- end }}
    {{- else }}
    {{- include "tandem.egressRule" $np.egress.postgresql | nindent 4 }}
    {{- include "tandem.egressRule" $np.egress.nats | nindent 4 }}
    {{- if $v.redis.enabled }}
    {{- include "tandem.egressRule" $np.egress.redis | nindent 4 }}
    {{- end }}
    {{- end }}
    {{- with $np.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/*
A backend's migration Job: a pre-install/pre-upgrade hook running
`<service> migrate` with the service's own environment; takes
(dict "root" "name").
*/}}
{{- define "tandem.migrationJob" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $m := $v.migrations }}
{{- $ctx := dict "root" $root "name" (printf "%s-migrate" .name) -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "tandem.componentName" $ctx }}
  labels:
    {{- include "tandem.componentLabels" $ctx | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: {{ $m.backoffLimit }}
  activeDeadlineSeconds: {{ $m.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ $m.ttlSecondsAfterFinished }}
  template:
    metadata:
      labels:
        {{- include "tandem.componentLabels" $ctx | nindent 8 }}
        tandem.dev/migrations: "true"
    spec:
      restartPolicy: Never
      serviceAccountName: {{ if $v.serviceAccount.create }}{{ include "tandem.fullname" $root }}-migrate{{ else }}default{{ end }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "tandem.podSecurityContext" . | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "tandem.image" . }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: ["migrate"]
          securityContext:
            {{- include "tandem.containerSecurityContext" . | nindent 12 }}
          env:
            {{- include "tandem.env" . | nindent 12 }}
          resources:
            {{- toYaml $m.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 16Mi
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
