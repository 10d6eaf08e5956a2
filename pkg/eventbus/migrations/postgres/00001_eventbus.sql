-- +goose Up
-- outbox holds domain events written in the same transaction as the change
-- they describe; the relay publishes them in seq order and sets sent_at only
-- after JetStream has acknowledged them.
CREATE TABLE outbox (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT        NOT NULL UNIQUE,
    tenant        TEXT        NOT NULL,
    aggregate     TEXT        NOT NULL,
    event_type    TEXT        NOT NULL,
    ce_type       TEXT        NOT NULL,
    source        TEXT        NOT NULL,
    aggregate_id  TEXT        NOT NULL,
    data_schema   TEXT        NOT NULL,
    payload       BYTEA       NOT NULL,
    trace_headers TEXT        NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL,
    sent_at       TIMESTAMPTZ
);

-- The relay's hot query: the oldest unsent rows.
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
-- The clean-up of old sent rows.
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- outbox_lease elects the one relay that publishes: a relay owns the lease
-- while holder is its id and expires_at is in the future.
CREATE TABLE outbox_lease (
    name       TEXT        PRIMARY KEY,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
INSERT INTO outbox_lease (name, holder, expires_at) VALUES ('relay', '', '1970-01-01 00:00:00+00');

-- inbox records every event a consumer has applied, written in the same
-- transaction as the effect, so a redelivered event is recognised.
CREATE TABLE inbox (
    consumer    TEXT        NOT NULL,
    event_id    TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- +goose Down
DROP TABLE inbox;
DROP TABLE outbox_lease;
DROP TABLE outbox;
