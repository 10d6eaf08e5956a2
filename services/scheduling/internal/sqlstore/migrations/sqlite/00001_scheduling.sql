-- +goose Up
-- availabilities holds each person's time zone; their weekly windows are
-- rows of availability_windows, replaced as a whole on every change.
CREATE TABLE availabilities (
    tenant_id    TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    time_zone    TEXT NOT NULL,
    update_time  TIMESTAMP   NOT NULL,
    PRIMARY KEY (tenant_id, person_id)
);

-- Times are local wall-clock "HH:MM" strings (end may be "24:00"), which
-- compare in time order; day is ISO 8601 (1 Monday … 7 Sunday).
CREATE TABLE availability_windows (
    tenant_id    TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    position     INTEGER NOT NULL,
    day          INTEGER NOT NULL,
    start_local  TEXT NOT NULL,
    end_local    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, person_id, position),
    FOREIGN KEY (tenant_id, person_id) REFERENCES availabilities (tenant_id, person_id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE availability_windows;
DROP TABLE availabilities;
