-- +goose Up
-- Instants below are BIGINT Unix microseconds (UTC) on both engines, so
-- that comparisons and equality read the same everywhere; 0 stands for
-- "not yet" (the zero time). Lists are JSON arrays in TEXT columns.

-- The first version's participant rows lack the person, skills and
-- enrolment times the reports need, so the table is rebuilt; replaying the
-- participant events fills it again.
DROP TABLE participants;

-- Projections of other services' events. Each row is as told by the newest
-- event applied (event_micros), except the *_micros times of steps, which
-- keep the earliest ever seen; see the store's Apply methods.
CREATE TABLE participants (
    tenant_id           TEXT NOT NULL,
    id                  TEXT NOT NULL,
    program_id          TEXT NOT NULL,
    person_id           TEXT NOT NULL,
    role                TEXT NOT NULL,
    state               TEXT NOT NULL,
    development_skills  TEXT NOT NULL,
    enrol_micros        BIGINT NOT NULL,
    withdraw_micros     BIGINT NOT NULL,
    event_micros        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX participants_by_program ON participants (tenant_id, program_id, id);

-- Erased people keep their id (and terminate time, which retention needs).
CREATE TABLE persons (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    department        TEXT NOT NULL,
    seniority         INTEGER NOT NULL,
    employment        TEXT NOT NULL,
    terminate_micros  BIGINT NOT NULL,
    erased            BOOLEAN NOT NULL,
    event_micros      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE matches (
    tenant_id               TEXT NOT NULL,
    id                      TEXT NOT NULL,
    program_id              TEXT NOT NULL,
    mentor_participant_id   TEXT NOT NULL,
    mentee_participant_id   TEXT NOT NULL,
    mentor_person_id        TEXT NOT NULL,
    mentee_person_id        TEXT NOT NULL,
    state                   TEXT NOT NULL,
    score                   REAL NOT NULL,
    propose_micros          BIGINT NOT NULL,
    accept_micros           BIGINT NOT NULL,
    activate_micros         BIGINT NOT NULL,
    decline_micros          BIGINT NOT NULL,
    end_micros              BIGINT NOT NULL,
    event_micros            BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX matches_by_program ON matches (tenant_id, program_id, id);
CREATE INDEX matches_by_mentor ON matches (tenant_id, mentor_person_id);
CREATE INDEX matches_by_mentee ON matches (tenant_id, mentee_person_id);

-- cancelled_by is '' when a manager or the service cancelled.
CREATE TABLE sessions (
    tenant_id        TEXT NOT NULL,
    id               TEXT NOT NULL,
    match_id         TEXT NOT NULL,
    state            TEXT NOT NULL,
    start_micros     BIGINT NOT NULL,
    end_micros       BIGINT NOT NULL,
    complete_micros  BIGINT NOT NULL,
    cancel_micros    BIGINT NOT NULL,
    cancelled_by     TEXT NOT NULL,
    event_micros     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sessions_by_match ON sessions (tenant_id, match_id, start_micros, id);

-- The service's own records.
CREATE TABLE settings (
    tenant_id                 TEXT NOT NULL,
    program_id                TEXT NOT NULL,
    topic_scope               TEXT NOT NULL,
    confidentiality           TEXT NOT NULL,
    expectations              TEXT NOT NULL,
    meeting_structure         TEXT NOT NULL,
    pulse_survey_days         TEXT NOT NULL,
    days_without_session      INTEGER NOT NULL,
    cancellations             INTEGER NOT NULL,
    low_rating                REAL NOT NULL,
    unsigned_agreement_days   INTEGER NOT NULL,
    update_micros             BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, program_id)
);

-- One row per version of a pair's agreement.
CREATE TABLE agreements (
    tenant_id           TEXT NOT NULL,
    match_id            TEXT NOT NULL,
    version             INTEGER NOT NULL,
    program_id          TEXT NOT NULL,
    topic_scope         TEXT NOT NULL,
    confidentiality     TEXT NOT NULL,
    expectations        TEXT NOT NULL,
    meeting_structure   TEXT NOT NULL,
    mentor_person_id    TEXT NOT NULL,
    mentee_person_id    TEXT NOT NULL,
    mentor_sign_micros  BIGINT NOT NULL,
    mentee_sign_micros  BIGINT NOT NULL,
    author_person_id    TEXT NOT NULL,
    create_micros       BIGINT NOT NULL,
    update_micros       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, match_id, version)
);

-- milestones is a JSON array of {"title", "done", "done_micros"}.
CREATE TABLE goals (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    match_id          TEXT NOT NULL,
    program_id        TEXT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    milestones        TEXT NOT NULL,
    progress          INTEGER NOT NULL,
    state             TEXT NOT NULL,
    due_date          TEXT NOT NULL,
    revision          INTEGER NOT NULL,
    author_person_id  TEXT NOT NULL,
    create_micros     BIGINT NOT NULL,
    update_micros     BIGINT NOT NULL,
    complete_micros   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX goals_by_match ON goals (tenant_id, match_id, create_micros, id);
CREATE INDEX goals_by_program ON goals (tenant_id, program_id);

-- has_private_comment is stored apart from the text: replayed events carry
-- the flag without the text, which is never published.
CREATE TABLE feedback (
    tenant_id            TEXT NOT NULL,
    id                   TEXT NOT NULL,
    session_id           TEXT NOT NULL,
    match_id             TEXT NOT NULL,
    program_id           TEXT NOT NULL,
    author_person_id     TEXT NOT NULL,
    rating               INTEGER NOT NULL,
    tags                 TEXT NOT NULL,
    comment              TEXT NOT NULL,
    private_comment      TEXT NOT NULL,
    has_private_comment  BOOLEAN NOT NULL,
    submit_micros        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, session_id, author_person_id)
);
CREATE INDEX feedback_by_match ON feedback (tenant_id, match_id, submit_micros, id);
CREATE INDEX feedback_by_program ON feedback (tenant_id, program_id);
CREATE INDEX feedback_by_author ON feedback (tenant_id, author_person_id);

CREATE TABLE pulse_responses (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    match_id       TEXT NOT NULL,
    program_id     TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    day            INTEGER NOT NULL,
    satisfaction   INTEGER NOT NULL,
    recommend      INTEGER NOT NULL,
    comment        TEXT NOT NULL,
    submit_micros  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, match_id, person_id, day)
);
CREATE INDEX pulse_responses_by_person ON pulse_responses (tenant_id, person_id, submit_micros, id);
CREATE INDEX pulse_responses_by_program ON pulse_responses (tenant_id, program_id);

-- A self-assessment phase is the set of its skills' newest levels.
CREATE TABLE assessment_levels (
    tenant_id       TEXT NOT NULL,
    participant_id  TEXT NOT NULL,
    phase           TEXT NOT NULL,
    skill_id        TEXT NOT NULL,
    program_id      TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    level           INTEGER NOT NULL,
    submit_micros   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, participant_id, phase, skill_id)
);
CREATE INDEX assessment_levels_by_program ON assessment_levels (tenant_id, program_id);

-- The health of each active pair; status holds evaluation.HealthStatus
-- (higher is worse). next_check_micros is NULL when only new activity can
-- change the status; the sweep re-evaluates the rows that are due.
CREATE TABLE healths (
    tenant_id          TEXT NOT NULL,
    match_id           TEXT NOT NULL,
    program_id         TEXT NOT NULL,
    mentor_person_id   TEXT NOT NULL,
    mentee_person_id   TEXT NOT NULL,
    status             INTEGER NOT NULL,
    reasons            TEXT NOT NULL,
    since_micros       BIGINT NOT NULL,
    evaluate_micros    BIGINT NOT NULL,
    next_check_micros  BIGINT,
    PRIMARY KEY (tenant_id, match_id)
);
CREATE INDEX healths_by_program ON healths (tenant_id, program_id, status, since_micros, match_id);
CREATE INDEX healths_due ON healths (next_check_micros);

-- +goose Down
DROP TABLE healths;
DROP TABLE assessment_levels;
DROP TABLE pulse_responses;
DROP TABLE feedback;
DROP TABLE goals;
DROP TABLE agreements;
DROP TABLE settings;
DROP TABLE sessions;
DROP TABLE matches;
DROP TABLE persons;
DROP TABLE participants;
CREATE TABLE participants (
    tenant_id        TEXT NOT NULL,
    participant_id   TEXT NOT NULL,
    program_id       TEXT NOT NULL,
    role             TEXT NOT NULL,
    state            TEXT NOT NULL,
    last_event_time  TIMESTAMP   NOT NULL,
    PRIMARY KEY (tenant_id, participant_id)
);
CREATE INDEX participants_program ON participants (tenant_id, program_id, last_event_time);
