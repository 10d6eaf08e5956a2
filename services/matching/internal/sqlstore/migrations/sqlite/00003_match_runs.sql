-- +goose Up
-- match_runs are matchings of a program's pool, computed in the background
-- under a lease (lease_owner, lease_expires_at) that the computing replica
-- renews; a run whose lease expired is claimed and computed again by any
-- replica. config and metrics are JSON text; at_time fixes the moment the
-- time-zone factor is computed for, so a run computed again gives the same
-- result.
CREATE TABLE match_runs (
    tenant_id               TEXT NOT NULL,
    id                      TEXT NOT NULL,
    program_id              TEXT NOT NULL,
    state                   TEXT NOT NULL,
    strategy                TEXT NOT NULL,
    maximise_participation  BOOLEAN NOT NULL,
    config                  TEXT NOT NULL,
    config_version          BIGINT NOT NULL,
    what_if                 BOOLEAN NOT NULL,
    progress_percent        INTEGER NOT NULL,
    error                   TEXT NOT NULL,
    metrics                 TEXT NOT NULL,
    certified               BOOLEAN NOT NULL,
    epoch                   BIGINT NOT NULL,
    matches_created         INTEGER NOT NULL,
    create_time             TIMESTAMP   NOT NULL,
    finish_time             TIMESTAMP  ,
    publish_time            TIMESTAMP  ,
    lease_owner             TEXT NOT NULL,
    lease_expires_at        TIMESTAMP   NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX match_runs_by_program ON match_runs (tenant_id, program_id, id);
CREATE INDEX match_runs_running ON match_runs (state, lease_expires_at);

-- match_run_pairs are the pairs a run proposes, with the explanation of
-- each score (factors, JSON text).
CREATE TABLE match_run_pairs (
    tenant_id              TEXT NOT NULL,
    run_id                 TEXT NOT NULL,
    mentee_participant_id  TEXT NOT NULL,
    mentor_participant_id  TEXT NOT NULL,
    mentee_person_id       TEXT NOT NULL,
    mentor_person_id       TEXT NOT NULL,
    score                  DOUBLE PRECISION NOT NULL,
    factors                TEXT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, mentee_participant_id)
);
CREATE INDEX match_run_pairs_by_mentor_person ON match_run_pairs (tenant_id, mentor_person_id);
CREATE INDEX match_run_pairs_by_mentee_person ON match_run_pairs (tenant_id, mentee_person_id);

-- match_run_unmatched are the participants of a run's pool left without a
-- partner, and why.
CREATE TABLE match_run_unmatched (
    tenant_id       TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    participant_id  TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    role            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    detail          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, participant_id)
);
CREATE INDEX match_run_unmatched_by_person ON match_run_unmatched (tenant_id, person_id);

-- +goose Down
DROP TABLE match_run_unmatched;
DROP TABLE match_run_pairs;
DROP TABLE match_runs;
