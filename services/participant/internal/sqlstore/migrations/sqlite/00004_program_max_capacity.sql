-- +goose Up
ALTER TABLE programs ADD COLUMN max_mentor_capacity INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE programs DROP COLUMN max_mentor_capacity;
