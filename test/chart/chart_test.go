package chart_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/test/chart"
)

// repoRoot returns the repository root.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := chart.RepoRoot()
	require.NoError(t, err)
	return root
}

// helm returns the pinned helm, or skips (fails under CI=true) when it is
// missing: `make test` and `make tools` install it.
func helm(t *testing.T) chart.Helm {
	t.Helper()
	h, err := chart.FindHelm(repoRoot(t))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("helm is required under CI=true: %v", err)
		}
		t.Skipf("SKIP (helm missing): %v", err)
	}
	return h
}

func chartDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "charts", "tandem")
}

// The chart passes every check with the default values, the production
// example and a combination of every optional feature.
func TestChartPassesChecks(t *testing.T) {
	t.Parallel()
	h := helm(t)
	dir := chartDir(t)
	tests := []struct {
		name   string
		values chart.Values
	}{
		{"default values", chart.Values{}},
		{"production values", chart.Values{Files: []string{filepath.Join(dir, "values-production.yaml")}}},
		{"every option", chart.Values{Set: []string{
			"secrets.existingSecret=tandem-secrets",
			"nats.urlFromSecret=true",
			"redis.enabled=false",
			"otlp.endpoint=http://collector.observability:4317",
			"serviceMonitor.enabled=true",
			"gateway.ingress.enabled=true",
			"gateway.ingress.tlsSecretName=tandem-tls",
			"services.gateway.autoscaling.enabled=true",
			"services.matching.autoscaling.enabled=true",
			"services.participant.image.digest=sha256:" + strings.Repeat("ab", 32),
			"image.tag=1.2.3",
			"serviceAccount.create=true",
			"priorityClassName=business-critical",
			"extraEnv[0].name=GODEBUG",
			"extraEnv[0].value=http2debug=0",
		}}},
		{"no migration jobs", chart.Values{Set: []string{"migrations.enabled=false"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			report := chart.VerifyChart(h, dir, tt.values)
			require.Empty(t, report, "violations:\n%s", report)
		})
	}
}

// The rendered chart has what the operations guide promises: a migration
// hook Job per backend, TANDEM_MIGRATIONS=skip on the backends, gRPC
// readiness probes.
func TestChartRendersMigrationHooks(t *testing.T) {
	t.Parallel()
	h := helm(t)
	manifest, err := h.Template(chartDir(t), chart.Values{})
	require.NoError(t, err)
	objs, err := chart.Decode(manifest)
	require.NoError(t, err)

	jobs := map[string]string{}
	skips := map[string]bool{}
	for _, p := range chart.PodTemplates(objs) {
		c := p.Spec.Containers[0]
		switch p.Owner.Kind {
		case "Job":
			jobs[p.Owner.Name] = p.Owner.Annotations["helm.sh/hook"]
			require.Equal(t, []string{"migrate"}, c.Args, p.Owner.String())
		case "Deployment":
			require.NotNil(t, c.ReadinessProbe.GRPC, "%s: readiness is a gRPC probe", p.Owner)
			require.EqualValues(t, 9090, c.ReadinessProbe.GRPC.Port)
			for _, e := range c.Env {
				if e.Name == "TANDEM_MIGRATIONS" {
					skips[p.Owner.Name] = e.Value == "skip"
				}
			}
		}
	}
	want := map[string]string{}
	for _, backend := range []string{"participant", "matching", "scheduling", "evaluation"} {
		want["tandem-"+backend+"-migrate"] = "pre-install,pre-upgrade"
		require.True(t, skips["tandem-"+backend], "tandem-%s sets TANDEM_MIGRATIONS=skip", backend)
	}
	require.Equal(t, want, jobs)
	require.NotContains(t, skips, "tandem-gateway")
}

// values.schema.json rejects each of chart.BadValues.
func TestChartSchemaRejectsBadValues(t *testing.T) {
	t.Parallel()
	require.Empty(t, chart.CheckSchema(helm(t), chartDir(t)))
}

// The kustomize base, the production overlay and the evaluation
// dependencies render in-process and pass the same checks (the
// dependencies, which have no disruption budgets or network policies of
// their own, pass decoding, pod security, resources and images).
func TestKustomizePassesChecks(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tests := []struct {
		dir    string
		checks []string // empty: all
	}{
		{"deploy/base", nil},
		{"deploy/overlays/production", nil},
		{"deploy/dependencies", []string{"decode", "pod-security", "resources", "images", "selectors"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			manifest, err := chart.Kustomize(filepath.Join(root, tt.dir))
			require.NoError(t, err)
			report := chart.VerifyManifests(manifest)
			if tt.checks != nil {
				only := chart.Report{}
				for _, name := range tt.checks {
					if errs, ok := report[name]; ok {
						only[name] = errs
					}
				}
				report = only
			}
			require.Empty(t, report, "violations:\n%s", report)
		})
	}
}

// deploy/jobs/tenant-create.yaml, filled in and applied to a namespace
// with a default deny, passes the checks that apply to a one-off Job (it
// runs as the namespace's default ServiceAccount, without a token).
func TestTenantCreateJob(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "jobs", "tenant-create.yaml"))
	require.NoError(t, err)
	const defaultDeny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n---\n"
	manifest := defaultDeny + strings.NewReplacer("TENANT_ID", "acme", "TENANT_NAME", "Acme Corp").Replace(string(data))
	report := chart.VerifyManifests([]byte(manifest))
	delete(report, "service-accounts")
	require.Empty(t, report, "violations:\n%s", report)

	objs, err := chart.Decode([]byte(manifest))
	require.NoError(t, err)
	pods := chart.PodTemplates(objs)
	require.Len(t, pods, 1)
	require.Equal(t, []string{"tenant", "create", "acme", "--display-name", "Acme Corp"}, pods[0].Spec.Containers[0].Args)
}
