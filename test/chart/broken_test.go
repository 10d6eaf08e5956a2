package chart_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/test/chart"
)

// breakage is one deliberate defect: in file (relative to the copied
// directory), old is replaced by new (every occurrence); a nil old replaces
// the whole file.
type breakage struct {
	name     string
	file     string
	old, new string
	// check must report a violation containing want.
	check, want string
}

// Each check fails on a chart broken in the way it exists to catch.
func TestChecksFailOnBrokenChart(t *testing.T) {
	t.Parallel()
	h := helm(t)
	tests := []breakage{
		{name: "chart without a version", file: "Chart.yaml",
			old: "version: 0.1.0\n", new: "",
			check: "lint", want: "version is required"},
		{name: "template reads a missing value", file: "templates/_helpers.tpl",
			old: "{{ $v.oidc.issuer | quote }}", new: "{{ $v.oidc.issuerURL.value | quote }}",
			check: "render", want: "nil pointer"},
		{name: "misspelt field", file: "templates/_helpers.tpl",
			old: "  revisionHistoryLimit: 5\n", new: "  revisionHistoryLimit: 5\n  replica: 2\n",
			check: "decode", want: `unknown field "spec.replica"`},
		{name: "privileged container", file: "templates/_helpers.tpl",
			old: "allowPrivilegeEscalation: false\n", new: "allowPrivilegeEscalation: false\nprivileged: true\n",
			check: "pod-security", want: "privileged"},
		{name: "root user", file: "templates/_helpers.tpl",
			old: "runAsUser: 65532\n", new: "runAsUser: 0\n",
			check: "pod-security", want: "runAsUser=0"},
		{name: "capabilities kept", file: "templates/_helpers.tpl",
			old: "capabilities:\n  drop: [\"ALL\"]\n", new: "",
			check: "pod-security", want: "unrestricted capabilities"},
		{name: "no readiness probe", file: "templates/_helpers.tpl",
			old:   "          readinessProbe:\n            grpc:\n              port: 9090\n            periodSeconds: 5\n            failureThreshold: 2\n            timeoutSeconds: 2\n",
			check: "probes", want: "has no readinessProbe"},
		{name: "probe on an undeclared port", file: "templates/_helpers.tpl",
			old:   "            httpGet:\n              path: /livez\n              port: metrics\n            periodSeconds: 10\n",
			new:   "            httpGet:\n              path: /livez\n              port: admin\n            periodSeconds: 10\n",
			check: "probes", want: "uses port admin"},
		{name: "no limits", file: "templates/_helpers.tpl",
			old:   "            {{- toYaml $svc.resources | nindent 12 }}",
			new:   "            requests:\n              {{- toYaml $svc.resources.requests | nindent 14 }}",
			check: "resources", want: "has no cpu limit"},
		{name: "no disruption budget", file: "templates/services.yaml",
			old: "{{- if $svc.pdb.enabled }}", new: "{{- if false }}",
			check: "disruption-budgets", want: "no PodDisruptionBudget"},
		{name: "no default deny", file: "templates/networkpolicies.yaml",
			old: "{{- if $np.defaultDeny }}", new: "{{- if false }}",
			check: "default-deny", want: "no default-deny NetworkPolicy"},
		{name: "default deny of ingress only", file: "templates/networkpolicies.yaml",
			old: "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n", new: "  podSelector: {}\n  policyTypes: [Ingress]\n",
			check: "default-deny", want: "no default-deny NetworkPolicy"},
		{name: "migration jobs without DNS", file: "templates/networkpolicies.yaml",
			old:   "    {{- include \"tandem.egressRule\" $np.egress.dns | nindent 4 }}\n    {{- include \"tandem.egressRule\" $np.egress.postgresql | nindent 4 }}\n{{- end }}",
			new:   "    {{- include \"tandem.egressRule\" $np.egress.postgresql | nindent 4 }}\n{{- end }}",
			check: "network-policies", want: "reach DNS"},
		{name: "token mounted", file: "templates/_helpers.tpl",
			old: "automountServiceAccountToken: false\n      enableServiceLinks", new: "automountServiceAccountToken: true\n      enableServiceLinks",
			check: "service-accounts", want: "mounts a ServiceAccount token"},
		{name: "service selects nothing", file: "templates/_helpers.tpl",
			old:   "  selector:\n    {{- include \"tandem.selectorLabels\" . | nindent 4 }}\n  ports:",
			new:   "  selector:\n    app.kubernetes.io/component: gatewy\n  ports:",
			check: "selectors", want: "selects no pods"},
		{name: "backend service with a cluster IP", file: "templates/_helpers.tpl",
			old: "  clusterIP: None\n", new: "", check: "headless-backends"},
		{name: "image without tag", file: "templates/_helpers.tpl",
			old: `{{- printf "%s:%s" $ref (default $root.Chart.AppVersion $root.Values.image.tag) }}`, new: `{{- $ref }}`,
			check: "images", want: "is not pinned"},
		{name: "permissive schema", file: "values.schema.json",
			new:   `{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}`,
			check: "schema", want: "accepts a bad value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := breakCopy(t, chartDir(t), tt)
			var report chart.Report
			if tt.check == "schema" {
				report = chart.Report{"schema": chart.CheckSchema(h, dir)}
			} else {
				report = chart.VerifyChart(h, dir, chart.Values{})
			}
			requireViolation(t, report, tt)
		})
	}
}

// The same checks fail on a broken kustomize base, seen through the
// production overlay.
func TestChecksFailOnBrokenKustomize(t *testing.T) {
	t.Parallel()
	tests := []breakage{
		{name: "privilege escalation", file: "base/gateway.yaml",
			old: "allowPrivilegeEscalation: false", new: "allowPrivilegeEscalation: true",
			check: "pod-security", want: "allowPrivilegeEscalation != false"},
		{name: "init container without limits", file: "base/matching.yaml",
			old: "            limits: {cpu: 500m, memory: 256Mi}\n", new: "",
			check: "resources", want: "container migrate has no cpu limit"},
		{name: "no liveness probe", file: "base/scheduling.yaml",
			old:   "          livenessProbe:\n            httpGet: {path: /livez, port: metrics}\n            periodSeconds: 10\n            failureThreshold: 3\n            timeoutSeconds: 2\n",
			check: "probes", want: "has no livenessProbe"},
		{name: "no default deny", file: "base/networkpolicies.yaml",
			old: "  name: tandem-default-deny\nspec:\n  podSelector: {}\n", new: "  name: tandem-default-deny\nspec:\n  podSelector: {matchLabels: {app: none}}\n",
			check: "default-deny", want: "no default-deny NetworkPolicy"},
	}
	deploy := filepath.Join(repoRoot(t), "deploy")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := breakCopy(t, deploy, tt)
			manifest, err := chart.Kustomize(filepath.Join(dir, "overlays", "production"))
			require.NoError(t, err)
			requireViolation(t, chart.VerifyManifests(manifest), tt)
		})
	}
}

// breakCopy copies src into a temporary directory and applies the breakage.
func breakCopy(t *testing.T, src string, b breakage) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, os.CopyFS(dir, os.DirFS(src)))
	path := filepath.Join(dir, b.file)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	text := b.new
	if b.old != "" {
		require.Contains(t, string(data), b.old, "the breakage must apply to %s", b.file)
		text = strings.ReplaceAll(string(data), b.old, b.new)
	}
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return dir
}

func requireViolation(t *testing.T, report chart.Report, b breakage) {
	t.Helper()
	errs := report[b.check]
	require.NotEmpty(t, errs, "check %q passed on a broken copy (%s); all violations:\n%s", b.check, b.name, report)
	require.ErrorContains(t, errors.Join(errs...), b.want)
	t.Logf("check %q fails, as it should:\n%v", b.check, errors.Join(errs...))
}
