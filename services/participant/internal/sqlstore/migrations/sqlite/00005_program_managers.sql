-- +goose Up
-- manager_subjects lists the token subjects of the program managers who run
-- the program, as a JSON array like goals.
ALTER TABLE programs ADD COLUMN manager_subjects TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE programs DROP COLUMN manager_subjects;
