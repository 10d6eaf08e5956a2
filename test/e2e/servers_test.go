package e2e

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-oss/tandem/pkg/testkit"
)

// A server is a private NATS, Redis or PostgreSQL process the test starts
// on a random loopback port, for faults that must never touch the
// machine's own servers. It is stopped (by its PID) when the test ends.
type server struct {
	*process
	addr string
}

// findBinary returns the path of name, looking in PATH and then in dirs;
// when it is missing the test is skipped, or fails under CI=true.
func findBinary(t *testing.T, name string, dirs ...string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	for _, dir := range dirs {
		matches, _ := filepath.Glob(filepath.Join(dir, name))
		if len(matches) > 0 {
			return matches[len(matches)-1]
		}
	}
	testkit.Unavailable(t, name, errors.New("not installed"))
	return ""
}

// startServer runs path with args as a private server listening on addr
// and waits until it accepts connections.
func startServer(t *testing.T, name, addr, path string, args ...string) *server {
	t.Helper()
	s := &server{process: &process{t: t, name: name, path: path, args: args, logPath: filepath.Join(t.TempDir(), name+".log")}, addr: addr}
	s.start()
	t.Cleanup(func() {
		if exited, _ := s.exited(); !exited {
			s.signal(syscall.SIGTERM, 30*time.Second)
		}
	})
	s.waitReady()
	return s
}

// waitReady polls until the server accepts TCP connections.
func (s *server) waitReady() {
	s.t.Helper()
	poll(s.t, 30*time.Second, s.name+" accepts connections", func() error {
		if exited, err := s.exited(); exited {
			return fmt.Errorf("%s exited: %v\n%s", s.name, err, s.logTail())
		}
		conn, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// restartServer starts the server again with the same arguments (same
// port, same store) and waits until it accepts connections.
func (s *server) restartServer() time.Duration {
	s.t.Helper()
	start := time.Now()
	s.start()
	s.waitReady()
	return time.Since(start)
}

// privateNATS starts nats-server with JetStream on a random port, its
// store in a temporary directory.
func privateNATS(t *testing.T) *server {
	t.Helper()
	path := findBinary(t, "nats-server", "/usr/sbin", "/usr/local/bin")
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	return startServer(t, "nats-server", addr, path, "-a", host, "-p", port, "-js", "-sd", t.TempDir())
}

// privateRedis starts redis-server on a random port, without persistence.
func privateRedis(t *testing.T) *server {
	t.Helper()
	path := findBinary(t, "redis-server", "/usr/sbin", "/usr/local/bin")
	addr := freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	return startServer(t, "redis-server", addr, path, "--bind", host, "--port", port, "--save", "", "--appendonly", "no")
}
