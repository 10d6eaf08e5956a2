-- +goose Up
-- match_requests are self-matching requests: a participant asks another
-- of the same program (one a mentor, the other a mentee) to pair up. A
-- pending request past expire_time reads as expired; the sweeper stores
-- it so and publishes match_request.expired.
CREATE TABLE match_requests (
    tenant_id                 TEXT NOT NULL,
    id                        TEXT NOT NULL,
    program_id                TEXT NOT NULL,
    requester_participant_id  TEXT NOT NULL,
    target_participant_id     TEXT NOT NULL,
    requester_person_id       TEXT NOT NULL,
    target_person_id          TEXT NOT NULL,
    requester_role            TEXT NOT NULL,
    message                   TEXT NOT NULL,
    state                     TEXT NOT NULL,
    reason                    TEXT NOT NULL,
    match_id                  TEXT NOT NULL,
    create_time               TIMESTAMPTZ NOT NULL,
    update_time               TIMESTAMPTZ NOT NULL,
    expire_time               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX match_requests_by_program ON match_requests (tenant_id, program_id, id);
CREATE INDEX match_requests_by_requester ON match_requests (tenant_id, requester_participant_id, state);
CREATE INDEX match_requests_by_target ON match_requests (tenant_id, target_participant_id, state);
CREATE INDEX match_requests_pending ON match_requests (state, expire_time);
CREATE INDEX match_requests_by_requester_person ON match_requests (tenant_id, requester_person_id);
CREATE INDEX match_requests_by_target_person ON match_requests (tenant_id, target_person_id);

-- +goose Down
DROP TABLE match_requests;
