-- +goose Up
-- imports are bulk import jobs. A job is RUNNING until it ends; the
-- replica whose lease (lease_owner until lease_expires_at) is current
-- processes it, and renews the lease with every batch it commits, so a job
-- of a stopped process is resumed by another after the lease expires.
CREATE TABLE imports (
    tenant_id         TEXT        NOT NULL REFERENCES tenants (id),
    id                TEXT        NOT NULL,
    program_id        TEXT        NOT NULL,
    default_role      TEXT        NOT NULL,
    delimiter         TEXT        NOT NULL,
    column_mapping    TEXT        NOT NULL,
    state             TEXT        NOT NULL,
    total_rows        INTEGER     NOT NULL,
    processed_rows    INTEGER     NOT NULL,
    created_rows      INTEGER     NOT NULL,
    updated_rows      INTEGER     NOT NULL,
    unchanged_rows    INTEGER     NOT NULL,
    rejected_rows     INTEGER     NOT NULL,
    error             TEXT        NOT NULL,
    lease_owner       TEXT        NOT NULL,
    lease_expires_at  TIMESTAMPTZ NOT NULL,
    create_time       TIMESTAMPTZ NOT NULL,
    finish_time       TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
-- The claim query: running jobs whose lease expired, oldest first.
CREATE INDEX imports_running ON imports (lease_expires_at) WHERE state = 'running';

-- import_files keeps the uploaded file of a running import so a resumed
-- job can read it again; it is deleted when the import ends, so no copy of
-- the HRIS export outlives the job.
CREATE TABLE import_files (
    tenant_id  TEXT  NOT NULL,
    import_id  TEXT  NOT NULL,
    csv        BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, import_id),
    FOREIGN KEY (tenant_id, import_id) REFERENCES imports (tenant_id, id) ON DELETE CASCADE
);

-- import_rejections says why each refused row was refused, in row order.
CREATE TABLE import_rejections (
    tenant_id  TEXT    NOT NULL,
    import_id  TEXT    NOT NULL,
    file_row   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    field      TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, import_id, file_row, seq),
    FOREIGN KEY (tenant_id, import_id) REFERENCES imports (tenant_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE import_rejections;
DROP TABLE import_files;
DROP TABLE imports;
