-- +goose Up
-- The scoring configuration gains the motivation weight and the match
-- policies; stored versions get the defaults.
ALTER TABLE scoring_configs ADD COLUMN motivation DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE scoring_configs ADD COLUMN acceptance TEXT NOT NULL DEFAULT 'both';
ALTER TABLE scoring_configs ADD COLUMN max_pending_requests INTEGER NOT NULL DEFAULT 3;
ALTER TABLE scoring_configs ADD COLUMN request_ttl_hours INTEGER NOT NULL DEFAULT 168;

-- The projection of the participant service's people, programs and
-- participants, kept from their events: the matching service never reads
-- another service's tables. Lists are JSON text.
CREATE TABLE people (
    tenant_id          TEXT NOT NULL,
    id                 TEXT NOT NULL,
    department         TEXT NOT NULL,
    seniority          INTEGER NOT NULL,
    manager_id         TEXT NOT NULL,
    time_zone          TEXT NOT NULL,
    languages          TEXT NOT NULL,
    location           TEXT NOT NULL,
    employment_status  TEXT NOT NULL,
    erased             BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE programs (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    type              TEXT NOT NULL,
    state             TEXT NOT NULL,
    format            TEXT NOT NULL,
    default_capacity  INTEGER NOT NULL,
    max_capacity      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE participants (
    tenant_id            TEXT NOT NULL,
    id                   TEXT NOT NULL,
    program_id           TEXT NOT NULL,
    person_id            TEXT NOT NULL,
    role                 TEXT NOT NULL,
    state                TEXT NOT NULL,
    competencies         TEXT NOT NULL,
    wants                TEXT NOT NULL,
    work_style           TEXT NOT NULL,
    communication_style  TEXT NOT NULL,
    motivation           TEXT NOT NULL,
    preferred_format     TEXT NOT NULL,
    capacity             INTEGER NOT NULL,
    prefer               TEXT NOT NULL,
    avoid                TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX participants_by_program ON participants (tenant_id, program_id, id);
CREATE INDEX participants_by_person ON participants (tenant_id, person_id);

-- program_epochs counts, per program, the changes that can change its
-- candidates; candidate caches key on it. Bumping it also serialises the
-- transactions that create matches of one program (a row lock).
CREATE TABLE program_epochs (
    tenant_id   TEXT NOT NULL,
    program_id  TEXT NOT NULL,
    epoch       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, program_id)
);

-- matches pair a mentor with a mentee of a program. A participant is the
-- mentee of at most one live (proposed, accepted, active) match; a
-- mentor's live matches are bounded by their capacity, which the
-- transactions creating matches check while holding the program's epoch
-- row. factors is JSON text.
CREATE TABLE matches (
    tenant_id              TEXT NOT NULL,
    id                     TEXT NOT NULL,
    program_id             TEXT NOT NULL,
    run_id                 TEXT NOT NULL,
    request_id             TEXT NOT NULL,
    source                 TEXT NOT NULL,
    mentor_participant_id  TEXT NOT NULL,
    mentee_participant_id  TEXT NOT NULL,
    mentor_person_id       TEXT NOT NULL,
    mentee_person_id       TEXT NOT NULL,
    state                  TEXT NOT NULL,
    score                  DOUBLE PRECISION NOT NULL,
    factors                TEXT NOT NULL,
    mentor_accepted        BOOLEAN NOT NULL,
    mentee_accepted        BOOLEAN NOT NULL,
    decline_reason         TEXT NOT NULL,
    declined_by            TEXT NOT NULL,
    end_reason             TEXT NOT NULL,
    create_time            TIMESTAMPTZ NOT NULL,
    update_time            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX matches_one_live_per_mentee ON matches (tenant_id, mentee_participant_id)
    WHERE state IN ('proposed', 'accepted', 'active');
CREATE INDEX matches_by_program ON matches (tenant_id, program_id, id);
CREATE INDEX matches_by_mentor ON matches (tenant_id, mentor_participant_id, id);
CREATE INDEX matches_by_mentee ON matches (tenant_id, mentee_participant_id, id);
CREATE INDEX matches_by_mentor_person ON matches (tenant_id, mentor_person_id);
CREATE INDEX matches_by_mentee_person ON matches (tenant_id, mentee_person_id);

-- +goose Down
DROP TABLE matches;
DROP TABLE program_epochs;
DROP TABLE participants;
DROP TABLE programs;
DROP TABLE people;
ALTER TABLE scoring_configs DROP COLUMN request_ttl_hours;
ALTER TABLE scoring_configs DROP COLUMN max_pending_requests;
ALTER TABLE scoring_configs DROP COLUMN acceptance;
ALTER TABLE scoring_configs DROP COLUMN motivation;
