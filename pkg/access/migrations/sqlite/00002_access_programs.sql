-- +goose Up
-- access_programs lists the programs the service has heard of, so an id of
-- another tenant's program is refused as unknown; access_people keeps
-- people without a subject too (subject '').
CREATE TABLE access_programs (
    tenant_id  TEXT NOT NULL,
    program_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, program_id)
);

-- +goose Down
DROP TABLE access_programs;
