package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/pbconv"
)

// TestFeedback checks feedback: round trip with the private comment,
// events without it, conflicts, paging, replays and erasure.
func TestFeedback(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		f1 := evaluation.Feedback{
			ID: "f1", SessionID: "s1", MatchID: "m1", ProgramID: "prog-1", AuthorPersonID: "dave", Rating: 4,
			Tags: []string{"helpful", "prepared"}, Comment: "good session", PrivateComment: "for the admin only",
			HasPrivateComment: true, SubmitTime: at(0),
		}
		feedback := func(t *testing.T, tenant, id string) evaluation.Feedback {
			t.Helper()
			f, err := store.Feedback(ctx, tenant, id)
			require.NoError(t, err)
			return f
		}

		t.Run("feedback round trips; its event has no private comment", func(t *testing.T) {
			before := outboxLen(t, db)
			f := f1
			f.HasPrivateComment = false // the store derives it from the comment
			require.NoError(t, store.CreateFeedback(ctx, "acme", f, at(0)))
			require.Empty(t, cmp.Diff(f1, feedback(t, "acme", "f1")))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.feedback.submitted acme/f1"}, kinds(events))
			got := payload(t, events[0], &eventsv1.FeedbackSubmitted{})
			require.Empty(t, cmp.Diff(&eventsv1.FeedbackSubmitted{Feedback: pbconv.Feedback(f1)}, got, protocmp.Transform()))
			require.True(t, got.GetFeedback().GetHasPrivateComment())
			require.NotContains(t, string(events[0].Payload), "for the admin only")
			_, err := store.Feedback(ctx, "globex", "f1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("an author gives feedback on a session once", func(t *testing.T) {
			before := outboxLen(t, db)
			again := f1
			again.ID = "f1-again"
			require.ErrorIs(t, store.CreateFeedback(ctx, "acme", again, at(0)), apperr.ErrAlreadyExists)
			sameID := f1
			sameID.SessionID = "s2"
			require.ErrorIs(t, store.CreateFeedback(ctx, "acme", sameID, at(0)), apperr.ErrAlreadyExists)
			require.Equal(t, before, outboxLen(t, db))
		})

		t.Run("a pair's feedback is listed newest first, page by page, without private comments", func(t *testing.T) {
			// f1 at t0; six more, two of them at the same time as f1.
			var all []evaluation.Feedback
			for i := range 6 {
				f := evaluation.Feedback{ID: fmt.Sprintf("f%d", i+2), SessionID: fmt.Sprintf("s%d", i+2), MatchID: "m1",
					ProgramID: "prog-1", AuthorPersonID: "carol", Rating: 1 + i%5, PrivateComment: "secret",
					SubmitTime: at(time.Duration(i/2) * time.Hour)}
				require.NoError(t, store.CreateFeedback(ctx, "acme", f, f.SubmitTime))
				f.PrivateComment, f.HasPrivateComment = "", true
				all = append(all, f)
			}
			require.NoError(t, store.CreateFeedback(ctx, "acme", evaluation.Feedback{ID: "other", SessionID: "s9", MatchID: "m2",
				ProgramID: "prog-1", AuthorPersonID: "carol", Rating: 5, SubmitTime: at(time.Hour)}, at(0)))
			listed := f1
			listed.PrivateComment = ""
			// Newest first, ids descending within a time: f7, f6 at 2h, f5, f4 at 1h, f3, f2, f1 at t0.
			want := []evaluation.Feedback{all[5], all[4], all[3], all[2], all[1], all[0], listed}
			var got []evaluation.Feedback
			after := evaluation.Cursor{}
			for {
				page, err := store.ListFeedback(ctx, "acme", "m1", after, 3)
				require.NoError(t, err)
				require.LessOrEqual(t, len(page), 3)
				got = append(got, page...)
				if len(page) < 3 {
					break
				}
				last := page[len(page)-1]
				after = evaluation.Cursor{Time: last.SubmitTime, ID: last.ID}
			}
			require.Empty(t, cmp.Diff(want, got))
		})

		t.Run("reading a private comment writes its audit event", func(t *testing.T) {
			before := outboxLen(t, db)
			r := evaluation.PrivateCommentRead{FeedbackID: "f1", AuthorPersonID: "dave", Actor: "admin-1",
				Reason: "complaint review", ReadTime: at(day)}
			require.NoError(t, store.RecordPrivateCommentRead(ctx, "acme", r))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.feedback.private_comment_read acme/f1"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.PrivateCommentRead{FeedbackId: "f1", AuthorPersonId: "dave", Actor: "admin-1",
				Reason: "complaint review", ReadTime: pbconv.TS(at(day))},
				payload(t, events[0], &eventsv1.PrivateCommentRead{}), protocmp.Transform()))
		})

		t.Run("replayed feedback is stored once, without events", func(t *testing.T) {
			before := outboxLen(t, db)
			replayed := f1
			replayed.PrivateComment = "" // never published
			conflicting := replayed
			conflicting.ID, conflicting.Rating = "f1-replayed-twice", 1
			changed := replayed
			changed.Comment = "changed"
			for _, f := range []evaluation.Feedback{replayed, replayed, conflicting, changed} {
				inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyFeedback(ctx, tx, "initech", f) })
			}
			require.Empty(t, cmp.Diff(replayed, feedback(t, "initech", "f1")))
			_, err := store.Feedback(ctx, "initech", "f1-replayed-twice")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			require.Equal(t, before, outboxLen(t, db))
		})

		t.Run("erasing a person blanks their comments and keeps their ratings", func(t *testing.T) {
			require.NoError(t, store.CreatePulseResponse(ctx, "acme", evaluation.PulseResponse{ID: "r1", MatchID: "m1",
				ProgramID: "prog-1", PersonID: "dave", Day: 30, Satisfaction: 4, Recommend: 9, Comment: "fine", SubmitTime: at(0)}))
			before := outboxLen(t, db)
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ErasePerson(ctx, tx, "acme", "dave") })
			want := f1
			want.Comment, want.PrivateComment, want.HasPrivateComment = "", "", false
			require.Empty(t, cmp.Diff(want, feedback(t, "acme", "f1")))
			responses, err := store.PulseResponses(ctx, "acme", "dave")
			require.NoError(t, err)
			require.Len(t, responses, 1)
			require.Equal(t, "", responses[0].Comment)
			require.Equal(t, 9, responses[0].Recommend)
			require.Equal(t, "secret", feedback(t, "acme", "f2").PrivateComment, "other authors keep theirs")
			require.Equal(t, before, outboxLen(t, db))
		})
	})
}

// TestPulseResponses checks pulse survey answers.
func TestPulseResponses(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		r1 := evaluation.PulseResponse{ID: "r1", MatchID: "m1", ProgramID: "prog-1", PersonID: "dave", Day: 30,
			Satisfaction: 4, Recommend: 9, Comment: "going well", SubmitTime: at(time.Hour)}
		r2 := evaluation.PulseResponse{ID: "r2", MatchID: "m1", ProgramID: "prog-1", PersonID: "dave", Day: 60,
			Satisfaction: 2, Recommend: 3, SubmitTime: at(0)}
		responses := func(t *testing.T, tenant, person string) []evaluation.PulseResponse {
			t.Helper()
			rs, err := store.PulseResponses(ctx, tenant, person)
			require.NoError(t, err)
			return rs
		}

		t.Run("answers round trip, by submit time, and write their events", func(t *testing.T) {
			before := outboxLen(t, db)
			require.NoError(t, store.CreatePulseResponse(ctx, "acme", r1))
			require.NoError(t, store.CreatePulseResponse(ctx, "acme", r2))
			require.Empty(t, cmp.Diff([]evaluation.PulseResponse{r2, r1}, responses(t, "acme", "dave")))
			require.Empty(t, responses(t, "acme", "carol"))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.pulse_response.submitted acme/r1", "tandem.pulse_response.submitted acme/r2"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.PulseResponseSubmitted{Response: pbconv.PulseResponse(r1)},
				payload(t, events[0], &eventsv1.PulseResponseSubmitted{}), protocmp.Transform()))
		})

		t.Run("a person answers a match's day once", func(t *testing.T) {
			before := outboxLen(t, db)
			again := r1
			again.ID = "r3"
			require.ErrorIs(t, store.CreatePulseResponse(ctx, "acme", again), apperr.ErrAlreadyExists)
			require.Equal(t, before, outboxLen(t, db))
			again.MatchID = "m2"
			require.NoError(t, store.CreatePulseResponse(ctx, "acme", again), "another match's day 30 is another survey")
		})

		t.Run("replayed answers are stored once, without events", func(t *testing.T) {
			before := outboxLen(t, db)
			conflicting := r1
			conflicting.ID = "r1-twice"
			for _, r := range []evaluation.PulseResponse{r1, r1, conflicting} {
				inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyPulseResponse(ctx, tx, "initech", r) })
			}
			require.Empty(t, cmp.Diff([]evaluation.PulseResponse{r1}, responses(t, "initech", "dave")))
			require.Equal(t, before, outboxLen(t, db))
		})
	})
}

// TestAssessments checks self-assessments: merging levels per skill on
// submit and on replay.
func TestAssessments(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		submission := func(phase evaluation.Phase, when time.Time, levels ...evaluation.SkillLevel) evaluation.SelfAssessment {
			return evaluation.SelfAssessment{ParticipantID: "part-1", ProgramID: "prog-1", PersonID: "dave", Phase: phase,
				Levels: levels, SubmitTime: when}
		}
		level := func(skill string, n int, when time.Time) evaluation.SkillLevel {
			return evaluation.SkillLevel{SkillID: skill, Level: n, SubmitTime: when}
		}
		phases := func(t *testing.T, tenant string) []evaluation.SelfAssessment {
			t.Helper()
			as, err := store.Assessments(ctx, tenant, "part-1")
			require.NoError(t, err)
			return as
		}

		t.Run("a submission returns the whole phase and writes it in its event", func(t *testing.T) {
			before := outboxLen(t, db)
			got, err := store.SubmitAssessment(ctx, "acme", submission(evaluation.PhasePre, at(0),
				evaluation.SkillLevel{SkillID: "sql", Level: 1}, evaluation.SkillLevel{SkillID: "go", Level: 2}))
			require.NoError(t, err)
			want := submission(evaluation.PhasePre, at(0), level("go", 2, at(0)), level("sql", 1, at(0)))
			require.Empty(t, cmp.Diff(want, got))

			got, err = store.SubmitAssessment(ctx, "acme", submission(evaluation.PhasePre, at(time.Hour), level("go", 3, at(time.Hour))))
			require.NoError(t, err)
			want = submission(evaluation.PhasePre, at(time.Hour), level("go", 3, at(time.Hour)), level("sql", 1, at(0)))
			require.Empty(t, cmp.Diff(want, got))

			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.self_assessment.submitted acme/part-1", "tandem.self_assessment.submitted acme/part-1"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.SelfAssessmentSubmitted{Assessment: pbconv.SelfAssessment(want)},
				payload(t, events[1], &eventsv1.SelfAssessmentSubmitted{}), protocmp.Transform()))
		})

		t.Run("a participant's phases come PRE first", func(t *testing.T) {
			_, err := store.SubmitAssessment(ctx, "acme", submission(evaluation.PhasePost, at(day), level("go", 4, at(day))))
			require.NoError(t, err)
			require.Empty(t, cmp.Diff([]evaluation.SelfAssessment{
				submission(evaluation.PhasePre, at(time.Hour), level("go", 3, at(time.Hour)), level("sql", 1, at(0))),
				submission(evaluation.PhasePost, at(day), level("go", 4, at(day))),
			}, phases(t, "acme")))
			require.Empty(t, phases(t, "globex"))
		})

		t.Run("replayed submissions keep each skill's newest level, without events", func(t *testing.T) {
			before := outboxLen(t, db)
			first := submission(evaluation.PhasePre, at(0), level("go", 2, at(0)), level("sql", 1, at(0)))
			second := submission(evaluation.PhasePre, at(time.Hour), level("go", 3, at(time.Hour)), level("sql", 1, at(0)))
			for _, a := range []evaluation.SelfAssessment{second, first, second, first} {
				inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyAssessment(ctx, tx, "initech", a) })
			}
			require.Empty(t, cmp.Diff([]evaluation.SelfAssessment{second}, phases(t, "initech")))
			require.Equal(t, before, outboxLen(t, db))
		})
	})
}
