-- +goose Up
-- scoring_configs keeps every version of each program's scoring
-- configuration; the newest one is in force. Older versions stay so that a
-- match run or a cached candidate list can name the version it was scored
-- with.
CREATE TABLE scoring_configs (
    tenant_id                TEXT NOT NULL,
    program_id               TEXT NOT NULL,
    version                  BIGINT NOT NULL,
    competency_coverage      DOUBLE PRECISION NOT NULL,
    seniority_gap            DOUBLE PRECISION NOT NULL,
    cross_department         DOUBLE PRECISION NOT NULL,
    time_zone_overlap        DOUBLE PRECISION NOT NULL,
    shared_language          DOUBLE PRECISION NOT NULL,
    format_fit               DOUBLE PRECISION NOT NULL,
    style_complement         DOUBLE PRECISION NOT NULL,
    preference               DOUBLE PRECISION NOT NULL,
    reporting_chain_depth    INTEGER NOT NULL,
    require_shared_language  BOOLEAN NOT NULL,
    min_pair_score           DOUBLE PRECISION NOT NULL,
    update_time              TIMESTAMP   NOT NULL,
    PRIMARY KEY (tenant_id, program_id, version)
);

-- +goose Down
DROP TABLE scoring_configs;
