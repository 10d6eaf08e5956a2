// Package e2e is Tandem's end-to-end suite: it builds the five service
// binaries, runs them as separate processes on loopback against real
// PostgreSQL, Redis and NATS JetStream, drives a whole program over HTTP
// and gRPC, reads the event stream as an analytics consumer would, and
// injects faults (kill -9, SIGTERM, Redis, PostgreSQL and NATS outages),
// printing a figure for each. See docs/reliability.md.
package e2e
