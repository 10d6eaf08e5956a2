package chart_test

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// No Docker engine runs in CI, so the images themselves are not built here.
// These tests check what can be checked offline: the ko configuration and
// the Dockerfiles say what the images must be, and the binaries, built with
// the images' flags, are static (they run on distroless "static", which has
// no libc and no dynamic loader).

// images maps each binary to its main package directory.
var images = map[string]string{
	"gateway":     "services/gateway",
	"participant": "services/participant",
	"matching":    "services/matching",
	"scheduling":  "services/scheduling",
	"evaluation":  "services/evaluation",
	"tandem":      "cmd/tandem",
}

const distrolessNonroot = "gcr.io/distroless/static-debian12:nonroot"

type koBuild struct {
	ID      string   `json:"id"`
	Dir     string   `json:"dir"`
	Main    string   `json:"main"`
	Env     []string `json:"env"`
	Flags   []string `json:"flags"`
	Ldflags []string `json:"ldflags"`
}

func koConfig(t *testing.T) (base string, builds []koBuild) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), ".ko.yaml"))
	require.NoError(t, err)
	var cfg struct {
		DefaultBaseImage string    `json:"defaultBaseImage"`
		DefaultPlatforms []string  `json:"defaultPlatforms"`
		Builds           []koBuild `json:"builds"`
	}
	require.NoError(t, yaml.UnmarshalStrict(data, &cfg))
	return cfg.DefaultBaseImage, cfg.Builds
}

// .ko.yaml builds every binary, without cgo, on distroless static as nonroot.
func TestKoConfig(t *testing.T) {
	t.Parallel()
	base, builds := koConfig(t)
	require.Equal(t, distrolessNonroot, base)
	got := map[string]string{}
	for _, b := range builds {
		got[b.ID] = filepath.Clean(b.Dir)
		require.Contains(t, b.Env, "CGO_ENABLED=0", b.ID)
		require.Contains(t, b.Flags, "-trimpath", b.ID)
		require.Equal(t, ".", b.Main, b.ID)
	}
	require.Equal(t, images, got)
}

// The Dockerfiles build a static binary with the workspace's Go version and
// run it on distroless static as user 65532.
func TestDockerfiles(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	goWork, err := os.ReadFile(filepath.Join(root, "go.work"))
	require.NoError(t, err)
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(goWork)
	require.NotNil(t, goVersion, "go.work names a Go version")

	for _, name := range []string{"build/Dockerfile", "build/cli.Dockerfile"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, name))
			require.NoError(t, err)
			text := string(data)
			require.Contains(t, text, "ARG GO_IMAGE=docker.io/library/golang:"+string(goVersion[1])+"-", "the builder uses go.work's Go version")
			require.Contains(t, text, "ARG BASE_IMAGE="+distrolessNonroot)
			require.Contains(t, text, "CGO_ENABLED=0")
			require.Contains(t, text, "-trimpath")
			require.NotContains(t, text, ":latest")
			final := text[strings.LastIndex(text, "\nFROM "):]
			require.True(t, strings.HasPrefix(final, "\nFROM ${BASE_IMAGE}\n"), "the final stage is the distroless base")
			require.Contains(t, final, "\nUSER 65532:65532\n")
			require.Contains(t, final, "\nENTRYPOINT [")
		})
	}
}

// Every binary, built as .ko.yaml (and the Dockerfiles) build it, is a
// static ELF executable: no program interpreter, no shared libraries, cgo
// off, paths trimmed.
func TestImageBinariesAreStatic(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("builds six binaries; skipped with -short (never under CI=true)")
	}
	t.Parallel()
	root := repoRoot(t)
	out := t.TempDir()
	_, builds := koConfig(t)
	for _, b := range builds {
		bin := filepath.Join(out, b.ID)
		args := append([]string{"build"}, b.Flags...)
		args = append(args, "-ldflags="+strings.Join(b.Ldflags, " "), "-o", bin, "./"+filepath.Clean(b.Dir))
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cmd.Env = append(append(os.Environ(), "GOOS=linux", "GOFLAGS=-buildvcs=false"), b.Env...)
		output, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s\n%s", strings.Join(args, " "), output)

		require.Empty(t, dynamicLinking(t, bin), b.ID)

		info, err := buildinfo.ReadFile(bin)
		require.NoError(t, err, b.ID)
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		require.Equal(t, "0", settings["CGO_ENABLED"], b.ID)
		require.Equal(t, "true", settings["-trimpath"], b.ID)
		require.Equal(t, "github.com/tandem-oss/tandem/"+images[b.ID], info.Path, b.ID)
		require.NoError(t, os.Remove(bin)) // 60 MB each
	}
}

// The static check rejects a dynamically linked executable.
func TestDynamicLinkingIsDetected(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	require.NotEmpty(t, dynamicLinking(t, sh), "%s is dynamically linked on Debian", sh)
}

// dynamicLinking lists what makes the ELF executable at path depend on a
// dynamic loader or shared libraries; nil for a static executable.
func dynamicLinking(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var found []string
	for _, section := range []string{".interp", ".dynamic"} {
		if f.Section(section) != nil {
			found = append(found, "section "+section)
		}
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			found = append(found, "program header "+p.Type.String())
		}
	}
	libs, _ := f.ImportedLibraries()
	for _, lib := range libs {
		found = append(found, "shared library "+lib)
	}
	return found
}
