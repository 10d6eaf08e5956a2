package benchgen

import (
	_ "embed" // the scipy script ships inside the binary
	"os"
	"path/filepath"
)

//go:embed scipy_lsa.py
var scipyScript []byte

// WriteScipyScript writes the embedded scipy_lsa.py into dir and returns
// its path. Run it as `python3 PATH FILE CAPACITY`; it prints
// `cost=… assigned=… seconds=…`, timing linear_sum_assignment alone.
func WriteScipyScript(dir string) (string, error) {
	path := filepath.Join(dir, "scipy_lsa.py")
	if err := os.WriteFile(path, scipyScript, 0o644); err != nil {
		return "", err
	}
	return path, nil
}
