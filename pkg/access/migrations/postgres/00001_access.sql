-- +goose Up
-- access_people projects each person's login subject from the person
-- events, so a service can tell which person a token's subject is.
CREATE TABLE access_people (
    tenant_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    subject   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, person_id)
);
CREATE INDEX access_people_subject ON access_people (tenant_id, subject);

-- access_program_managers projects each program's manager subjects from
-- the program events.
CREATE TABLE access_program_managers (
    tenant_id  TEXT NOT NULL,
    program_id TEXT NOT NULL,
    subject    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, program_id, subject)
);

-- +goose Down
DROP TABLE access_program_managers;
DROP TABLE access_people;
