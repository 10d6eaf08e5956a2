-- +goose Up
-- Instants of the tables below are BIGINT Unix microseconds (UTC) on both
-- engines, so that range comparisons read the same everywhere.

-- Working hours share the window table: kind 'meet' rows are the windows a
-- person can meet in, 'work' rows their working hours. Positions number
-- the meeting windows first, then the working hours.
ALTER TABLE availability_windows ADD COLUMN kind TEXT NOT NULL DEFAULT 'meet' CHECK (kind IN ('meet', 'work'));
ALTER TABLE availability_windows ADD COLUMN preferred BOOLEAN NOT NULL DEFAULT FALSE;

-- Dated periods a person cannot meet, replaced with the windows.
CREATE TABLE availability_exceptions (
    tenant_id     TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    position      INTEGER NOT NULL,
    start_micros  BIGINT NOT NULL,
    end_micros    BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, position),
    FOREIGN KEY (tenant_id, person_id) REFERENCES availabilities (tenant_id, person_id) ON DELETE CASCADE
);

-- The projection of the matching service's matches and the participant
-- service's programs, kept from their events. state and cadence hold the
-- values of the domain's MatchState and Cadence.
CREATE TABLE matches (
    tenant_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    program_id        TEXT NOT NULL,
    mentor_person_id  TEXT NOT NULL,
    mentee_person_id  TEXT NOT NULL,
    state             INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE programs (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    cadence    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE series (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    match_id       TEXT NOT NULL,
    cadence        INTEGER NOT NULL,
    create_micros  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- sessions.state holds the domain's SessionState; 1 (PROPOSED) and
-- 2 (CONFIRMED) are booked. series_id and room_id are '' when there is none.
CREATE TABLE sessions (
    tenant_id          TEXT NOT NULL,
    id                 TEXT NOT NULL,
    match_id           TEXT NOT NULL,
    series_id          TEXT NOT NULL,
    start_micros       BIGINT NOT NULL,
    end_micros         BIGINT NOT NULL,
    state              INTEGER NOT NULL,
    room_id            TEXT NOT NULL,
    mentor_person_id   TEXT NOT NULL,
    mentee_person_id   TEXT NOT NULL,
    proposed_by        TEXT NOT NULL,
    reschedule_reason  TEXT NOT NULL,
    cancel_reason      TEXT NOT NULL,
    cancelled_by       TEXT NOT NULL,
    absent_person_id   TEXT NOT NULL,
    sequence           INTEGER NOT NULL,
    create_micros      BIGINT NOT NULL,
    update_micros      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- Booking checks and listings look sessions up by person, room, match and
-- series, each in time order.
CREATE INDEX sessions_by_mentor ON sessions (tenant_id, mentor_person_id, start_micros);
CREATE INDEX sessions_by_mentee ON sessions (tenant_id, mentee_person_id, start_micros);
CREATE INDEX sessions_by_room ON sessions (tenant_id, room_id, start_micros);
CREATE INDEX sessions_by_match ON sessions (tenant_id, match_id, start_micros, id);
CREATE INDEX sessions_by_series ON sessions (tenant_id, series_id, start_micros);

CREATE TABLE rooms (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    location       TEXT NOT NULL,
    capacity       INTEGER NOT NULL,
    create_micros  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- A reminder fires once, at due_micros; fired_micros is NULL until then.
CREATE TABLE reminders (
    tenant_id      TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    offset_micros  BIGINT NOT NULL,
    due_micros     BIGINT NOT NULL,
    fired_micros   BIGINT,
    PRIMARY KEY (tenant_id, session_id, offset_micros),
    FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id)
);
-- The firing loop's query: the earliest unfired reminders of any tenant.
CREATE INDEX reminders_unfired ON reminders (due_micros) WHERE fired_micros IS NULL;

-- Only the SHA-256 hash of a feed token's secret is stored; a feed request
-- finds it in any tenant. revoke_micros is NULL while the token is active.
CREATE TABLE calendar_tokens (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    token_hash     BLOB  NOT NULL UNIQUE,
    create_micros  BIGINT NOT NULL,
    revoke_micros  BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX calendar_tokens_by_person ON calendar_tokens (tenant_id, person_id, create_micros);

-- booking_locks rows are upserted by every booking transaction, one per
-- person and room it books, to serialise the overlap checks of each
-- person and room; n only counts the bookings.
CREATE TABLE booking_locks (
    tenant_id  TEXT NOT NULL,
    lock_key   TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, lock_key)
);

-- +goose Down
DROP TABLE booking_locks;
DROP TABLE calendar_tokens;
DROP TABLE reminders;
DROP TABLE rooms;
DROP TABLE sessions;
DROP TABLE series;
DROP TABLE programs;
DROP TABLE matches;
DROP TABLE availability_exceptions;
ALTER TABLE availability_windows DROP COLUMN preferred;
ALTER TABLE availability_windows DROP COLUMN kind;
