package eventbus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id to drop a
// republished event; the consumers' inbox covers what falls outside it.
const DuplicateWindow = 2 * time.Minute

// EnsureStream creates the stream that holds all events under subjectPrefix
// (subjects "<prefix>.>", file storage, limits retention, a two-minute
// duplicate window) unless a stream of that name exists, in which case it is
// left as it is: operators may have tuned its limits or replicas. It blocks
// for at most two JetStream API round trips.
func EnsureStream(ctx context.Context, js jetstream.JetStream, stream, subjectPrefix string) error {
	if stream == "" {
		stream = DefaultStream
	}
	if subjectPrefix == "" {
		subjectPrefix = DefaultSubjectPrefix
	}
	_, err := js.Stream(ctx, stream)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("nats: look up stream %s: %w", stream, err)
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        stream,
		Description: "Tandem domain events",
		Subjects:    []string{subjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Duplicates:  DuplicateWindow,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("nats: create stream %s: %w", stream, err)
	}
	return nil
}
