// Package testkit gives tests their own real infrastructure: a fresh
// PostgreSQL database, a SQLite file, an embedded NATS JetStream server, the
// machine's NATS and Redis with a private prefix. Everything is removed when
// the test ends.
//
// When a server is unreachable the test is skipped with a visible message,
// except under CI=true, where it fails: CI never silently skips.
package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for the admin connection
	"github.com/nats-io/nats-server/v2/server"
	"github.com/redis/go-redis/v9"
)

// Addresses of the machine's servers, overridable by environment.
var (
	postgresAdminURL = envOr("TANDEM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	redisAddr        = envOr("TANDEM_TEST_REDIS_ADDR", "127.0.0.1:6379")
	natsURL          = envOr("TANDEM_TEST_NATS_URL", "nats://127.0.0.1:4222")
)

// RandomName returns prefix followed by 12 random hex digits; it is a valid
// SQL identifier, NATS token and Redis key part.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Unavailable skips the test, or fails it under CI=true, because a server
// the test needs cannot be reached.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true but unavailable: %v", what, err)
	}
	t.Skipf("SKIP (server missing): %s unavailable: %v — start it or run under CI=true to fail instead", what, err)
}

// SQLiteURL returns the URL of a new SQLite database file in a temporary
// directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
}

// PostgresURL creates a database with a random name on the machine's
// PostgreSQL and returns its URL; the database is dropped after the test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", postgresAdminURL)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		Unavailable(t, "PostgreSQL at "+postgresAdminURL, err)
	}
	name := RandomName("tandem_test_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(postgresAdminURL)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresAdminURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Stores runs fn once per storage engine, as a subtest named after it, with
// the URL of a fresh database: the conformance suites use it so every store
// is tested on PostgreSQL and SQLite alike.
func Stores(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresURL(t)) })
}

// EmbeddedNATS starts an in-process NATS server with JetStream on a random
// loopback port, storing in a temporary directory, and returns its URL. It
// is shut down after the test.
func EmbeddedNATS(t testing.TB) string {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatalf("embedded nats: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded nats: not ready after 10s")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv.ClientURL()
}

// ExternalNATSURL returns the URL of the machine's NATS server (JetStream
// enabled). Tests using it must create streams and subjects with random
// names (RandomName) and delete them.
func ExternalNATSURL(t testing.TB) string {
	t.Helper()
	if err := dial(natsURL[len("nats://"):]); err != nil {
		Unavailable(t, "NATS at "+natsURL, err)
	}
	return natsURL
}

// Redis returns a client of the machine's Redis and a random key prefix;
// every key under the prefix is deleted after the test.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: redisAddr})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		Unavailable(t, "Redis at "+redisAddr, err)
	}
	prefix := RandomName("tandemtest:") + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	})
	return client, prefix
}

// Eventually polls cond every 10ms until it returns true or timeout passes,
// then fails the test with msg.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
