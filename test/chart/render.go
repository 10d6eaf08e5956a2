package chart

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// HelmVersion is the helm release the checks use; `make tools` installs it
// into .tools/bin.
const HelmVersion = "v3.22.0"

// KubeVersion is the Kubernetes version the chart is rendered for: the
// version of the k8s.io/api types the objects are decoded into.
const KubeVersion = "1.37.0"

// RepoRoot returns the repository root: the nearest directory above the
// working directory that holds go.work.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory")
		}
		dir = parent
	}
}

// Helm runs a helm binary.
type Helm struct{ Path string }

// FindHelm returns the helm named by $TANDEM_HELM, or else the one `make
// tools` installs into <root>/.tools/bin, after checking that it is
// HelmVersion.
func FindHelm(root string) (Helm, error) {
	path := os.Getenv("TANDEM_HELM")
	if path == "" {
		path = filepath.Join(root, ".tools", "bin", "helm")
	}
	out, err := exec.Command(path, "version", "--template", "{{.Version}}").Output()
	if err != nil {
		return Helm{}, fmt.Errorf("helm %s at %s: %w (run `make tools`)", HelmVersion, path, err)
	}
	if v := strings.TrimSpace(string(out)); v != HelmVersion {
		return Helm{}, fmt.Errorf("helm at %s is %s, want %s (run `make tools`)", path, v, HelmVersion)
	}
	return Helm{Path: path}, nil
}

// Values are the values of one rendering: files (-f) and --set pairs.
type Values struct {
	Files []string
	Set   []string
}

func (v Values) args() []string {
	var args []string
	for _, f := range v.Files {
		args = append(args, "--values", f)
	}
	for _, s := range v.Set {
		args = append(args, "--set", s)
	}
	return args
}

// Lint runs `helm lint --strict` on the chart with the values.
func (h Helm) Lint(chartDir string, v Values) error {
	_, err := h.run(append([]string{"lint", "--strict", chartDir}, v.args()...))
	return err
}

// Template renders the chart as release "tandem" in namespace "tandem",
// hooks included, for KubeVersion.
func (h Helm) Template(chartDir string, v Values) ([]byte, error) {
	return h.run(append([]string{"template", "tandem", chartDir, "--namespace", "tandem", "--kube-version", KubeVersion}, v.args()...))
}

func (h Helm) run(args []string) ([]byte, error) {
	cmd := exec.Command(h.Path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// No kubeconfig or repository state of the user's leaks into the checks.
	home := os.TempDir()
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(home, "tandem-no-kubeconfig"),
		"HELM_CACHE_HOME="+filepath.Join(home, "tandem-helm-cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "tandem-helm-config"),
		"HELM_DATA_HOME="+filepath.Join(home, "tandem-helm-data"))
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %w\n%s%s", args[0], err, stdout.String(), stderr.String())
	}
	return stdout.Bytes(), nil
}

// Kustomize renders the kustomization in dir in-process, as
// `kubectl kustomize dir` would.
func Kustomize(dir string) ([]byte, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	return resources.AsYaml()
}

// Report holds the violations of one verification by check name: "lint",
// "render", "decode", each of Checks, and "schema"; a passing check is absent.
type Report map[string][]error

func (r Report) add(check string, errs ...error) {
	for _, err := range errs {
		if err != nil {
			r[check] = append(r[check], err)
		}
	}
}

// String lists the violations, one per line, by check.
func (r Report) String() string {
	var b strings.Builder
	for _, name := range append([]string{"lint", "render", "decode"}, append(checkNames(), "schema")...) {
		for _, err := range r[name] {
			fmt.Fprintf(&b, "%s: %v\n", name, err)
		}
	}
	return b.String()
}

func checkNames() []string {
	names := make([]string, len(Checks))
	for i, c := range Checks {
		names[i] = c.Name
	}
	return names
}

// VerifyManifests decodes a rendered manifest set strictly and runs every
// Check on it.
func VerifyManifests(manifest []byte) Report {
	r := Report{}
	objs, err := Decode(manifest)
	r.add("decode", err)
	for name, errs := range RunChecks(objs) {
		r.add(name, errs...)
	}
	return r
}

// VerifyChart runs `helm lint --strict` and `helm template` with the
// values, then VerifyManifests on the output.
func VerifyChart(h Helm, chartDir string, v Values) Report {
	r := Report{}
	r.add("lint", h.Lint(chartDir, v))
	manifest, err := h.Template(chartDir, v)
	if err != nil {
		r.add("render", err)
		return r
	}
	for name, errs := range VerifyManifests(manifest) {
		r.add(name, errs...)
	}
	return r
}

// BadValues are values that values.schema.json must reject, by what is wrong.
var BadValues = []struct{ Name, Set string }{
	{"unknown top-level key", "replicaz=3"},
	{"unknown service", "services.billing.replicas=1"},
	{"zero replicas", "services.gateway.replicas=0"},
	{"missing memory limit", "services.matching.resources.limits.memory=null"},
	{"malformed CPU quantity", "services.participant.resources.requests.cpu=lots"},
	{"unknown pull policy", "image.pullPolicy=Sometimes"},
	{"malformed digest", "services.participant.image.digest=sha256:abc"},
	{"unknown log level", "logLevel=TRACE"},
	{"NATS URL scheme", "nats.url=http://nats:4222"},
	{"short page-token key", "secrets.create.pageTokenKey=short"},
	{"egress without ports", "networkPolicy.egress.postgresql.ports=null"},
	{"string for a boolean", "networkPolicy.enabled=yes"},
	{"OIDC issuer not a URL", "oidc.issuer=tandem"},
}

// CheckSchema renders the chart with each of BadValues and reports the
// ones that values.schema.json lets through.
func CheckSchema(h Helm, chartDir string) []error {
	var errs []error
	for _, bad := range BadValues {
		_, err := h.Template(chartDir, Values{Set: []string{bad.Set}})
		switch {
		case err == nil:
			errs = append(errs, fmt.Errorf("values.schema.json accepts a bad value (%s: --set %s)", bad.Name, bad.Set))
		case !strings.Contains(err.Error(), "don't meet the specifications of the schema"):
			errs = append(errs, fmt.Errorf("--set %s (%s) failed, but not in schema validation: %v", bad.Set, bad.Name, err))
		}
	}
	return errs
}
