-- +goose Up
CREATE TABLE tenants (
    id                     TEXT PRIMARY KEY,
    display_name           TEXT NOT NULL,
    reporting_chain_depth  INTEGER NOT NULL,
    min_report_group_size  INTEGER NOT NULL,
    create_time            TIMESTAMPTZ NOT NULL,
    update_time            TIMESTAMPTZ NOT NULL
);

CREATE TABLE people (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    id                 TEXT NOT NULL,
    hris_id            TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    email              TEXT NOT NULL,
    department         TEXT NOT NULL,
    title              TEXT NOT NULL,
    seniority_level    INTEGER NOT NULL,
    manager_id         TEXT NOT NULL,
    hire_date          TEXT NOT NULL,
    promotion_date     TEXT NOT NULL,
    location           TEXT NOT NULL,
    time_zone          TEXT NOT NULL,
    languages          TEXT NOT NULL,
    employment_status  TEXT NOT NULL,
    create_time        TIMESTAMPTZ NOT NULL,
    update_time        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX people_hris_id ON people (tenant_id, hris_id) WHERE hris_id <> '';
CREATE INDEX people_department ON people (tenant_id, department, id);
CREATE INDEX people_manager ON people (tenant_id, manager_id);

CREATE TABLE programs (
    tenant_id                TEXT NOT NULL REFERENCES tenants (id),
    id                       TEXT NOT NULL,
    display_name             TEXT NOT NULL,
    description              TEXT NOT NULL,
    type                     TEXT NOT NULL,
    state                    TEXT NOT NULL,
    goals                    TEXT NOT NULL,
    success_metrics          TEXT NOT NULL,
    duration_weeks           INTEGER NOT NULL,
    meeting_cadence          TEXT NOT NULL,
    format                   TEXT NOT NULL,
    enrollment_open_time     TIMESTAMPTZ,
    enrollment_close_time    TIMESTAMPTZ,
    default_mentor_capacity  INTEGER NOT NULL,
    scoring_config_id        TEXT NOT NULL,
    pilot                    BOOLEAN NOT NULL,
    create_time              TIMESTAMPTZ NOT NULL,
    update_time              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX programs_state ON programs (tenant_id, state, id);

CREATE TABLE participants (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    program_id   TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    role         TEXT NOT NULL,
    state        TEXT NOT NULL,
    profile      TEXT NOT NULL,
    create_time  TIMESTAMPTZ NOT NULL,
    update_time  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, program_id) REFERENCES programs (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id)
);
CREATE UNIQUE INDEX participants_person ON participants (tenant_id, program_id, person_id);
CREATE INDEX participants_program ON participants (tenant_id, program_id, id);

-- +goose Down
DROP TABLE participants;
DROP TABLE programs;
DROP TABLE people;
DROP TABLE tenants;
