-- +goose Up
CREATE TABLE skills (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    id            TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    category      TEXT NOT NULL,
    description   TEXT NOT NULL,
    create_time   TIMESTAMP NOT NULL,
    update_time   TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX skills_category ON skills (tenant_id, category, id);

-- The login subject of a person (self-service) and the erasure flag.
ALTER TABLE people ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN erased BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX people_subject ON people (tenant_id, subject) WHERE subject <> '';

-- +goose Down
DROP INDEX people_subject;
ALTER TABLE people DROP COLUMN erased;
ALTER TABLE people DROP COLUMN subject;
DROP TABLE skills;
