-- +goose Up
-- participants projects the participant service's participants from its
-- events: one row per participant as told by the newest event applied.
-- The evaluation service never reads another service's tables.
CREATE TABLE participants (
    tenant_id        TEXT NOT NULL,
    participant_id   TEXT NOT NULL,
    program_id       TEXT NOT NULL,
    role             TEXT NOT NULL,
    state            TEXT NOT NULL,
    last_event_time  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, participant_id)
);
-- The report's counts and its newest event time per program.
CREATE INDEX participants_program ON participants (tenant_id, program_id, last_event_time);

-- +goose Down
DROP TABLE participants;
