package main

import (
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

// matrixCase is how the access matrix calls one RPC: a valid request that
// names the fixture's objects, of tenant acme and of its pair.
type matrixCase struct {
	req func(f *fixture) proto.Message
	// skip names the callers that are no case for the RPC, with why: an
	// RPC on data of the caller's own tenant that names no object (a
	// create, the tenant's settings, the skill catalogue) acts for another
	// tenant's admin on what is theirs; a program's definition is every
	// member's to read.
	skip map[string]string
	// open marks an RPC whose request carries its own credential.
	open string
}

// Callers of the matrix.
const (
	missingRole      = "missing role"
	otherTenant      = "another tenant"
	otherParticipant = "another participant"
)

// fixture holds the ids of tenant acme's objects: a program managed by
// pm@, a pair (Jo mentors Sam) with a session, an agreement, a goal and a
// calendar token, Olly's request to Jo, a match run and an import. Nia is
// a participant of the program who is in none of them.
type fixture struct {
	program, importID, runID, matchID, requestID, sessionID, goalID, calendarTokenID string
	mentorPart, menteePart, ollyPart, niaPart                                        string
	mentor, mentee, olly                                                             string
}

// TestAccessMatrix calls every RPC of every service, enumerated from the
// proto descriptors, over gRPC and over HTTP/JSON through the gateway of a
// running `tandem dev`: with another tenant's admin naming acme's objects,
// with a role the RPC's policy lacks, and as a participant who is not the
// object's. Each call must be refused (NotFound or PermissionDenied, 404 or
// 403; PermissionDenied or 403 for the missing role), and no service may
// have written anything: every change writes an outbox row in the same
// transaction, so the outbox of each database is compared after each call.
// An RPC without a case fails the test.
func TestAccessMatrix(t *testing.T) {
	dataDir := t.TempDir()
	addrs, _ := startDev(t, dataDir)
	signer, err := auth.LoadOrCreateDevSigner(dataDir)
	require.NoError(t, err)
	tenant, globex := testkit.RandomName("acme"), testkit.RandomName("globex")
	for _, id := range []string{tenant, globex} {
		_, err := participantsvc.EnsureTenant(t.Context(), "sqlite:"+filepath.Join(dataDir, "participant.db"), id, "")
		require.NoError(t, err)
	}
	token := func(tenant, subject string, roles ...string) string {
		tok, err := signer.Sign(auth.Principal{Tenant: tenant, Subject: subject, Roles: roles}, time.Hour)
		require.NoError(t, err)
		return tok
	}
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	admin := token(tenant, "admin@acme.example", auth.RoleTenantAdmin)
	otherParticipantToken := token(tenant, "nia@acme.example", auth.RoleParticipant)
	f := seedMatrix(t, conn, admin, otherParticipantToken)

	cases := matrixCases()
	otherTenantToken := token(globex, "admin@globex.example", auth.RoleTenantAdmin)
	outbox := outboxCounter(t, dataDir)
	covered := 0
	for _, service := range []string{gatewaysvc.ParticipantService, gatewaysvc.MatchingService, gatewaysvc.SchedulingService, gatewaysvc.EvaluationService} {
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
		require.NoError(t, err)
		methods := desc.(protoreflect.ServiceDescriptor).Methods()
		for i := range methods.Len() {
			md := methods.Get(i)
			method := "/" + service + "/" + string(md.Name())
			c, ok := cases[method]
			if !ok {
				t.Errorf("no access matrix case for %s: add one to matrixCases", method)
				continue
			}
			covered++
			if c.open != "" {
				continue
			}
			t.Run(string(md.Name()), func(t *testing.T) {
				callers := map[string]string{
					missingRole:      token(tenant, "nobody@acme.example", lackedRole(gatewaysvc.Policy[method])...),
					otherTenant:      otherTenantToken,
					otherParticipant: otherParticipantToken,
				}
				req := c.req(f)
				for _, name := range []string{missingRole, otherTenant, otherParticipant} {
					if _, skip := c.skip[name]; skip {
						continue
					}
					caller := struct{ name, token string }{name, callers[name]}
					want := []codes.Code{codes.PermissionDenied, codes.NotFound}
					if caller.name == missingRole {
						want = want[:1]
					}
					before := outbox()
					ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+caller.token)
					reply, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
					require.NoError(t, err)
					err = conn.Invoke(ctx, method, req, reply.New().Interface())
					require.Contains(t, want, status.Code(err), "gRPC as %s: %v", caller.name, err)
					require.Equal(t, before, outbox(), "gRPC as %s changed something", caller.name)

					if verb, path, body, ok := httpRequest(md, req); ok {
						code, out := httpDo(t, verb, "http://"+addrs.HTTP+path, caller.token, body)
						wantHTTP := []int{http.StatusForbidden, http.StatusNotFound}
						require.Contains(t, wantHTTP[:len(want)], code, "HTTP %s %s as %s: %v", verb, path, caller.name, out)
						require.Equal(t, before, outbox(), "HTTP as %s changed something", caller.name)
					}
				}
			})
		}
	}
	require.Equal(t, len(cases), covered, "a case names an RPC that does not exist")
}

// lackedRole is a role policy lacks (the most privileged such), or no role
// when it allows them all.
func lackedRole(allowed []string) []string {
	for _, r := range auth.KnownRoles {
		if !slices.Contains(allowed, r) {
			return []string{r}
		}
	}
	return nil
}

// outboxCounter returns a function counting the outbox rows of every
// service's database; the background loops' own events (run outcomes,
// health, reminders) are left out.
func outboxCounter(t *testing.T, dataDir string) func() map[string]int {
	dbs := map[string]*sqlstore.DB{}
	for _, svc := range []string{"participant", "matching", "scheduling", "evaluation"} {
		db, err := sqlstore.Connect(t.Context(), "sqlite:"+filepath.Join(dataDir, svc+".db"))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		dbs[svc] = db
	}
	return func() map[string]int {
		counts := map[string]int{}
		for svc, db := range dbs {
			var n int
			require.NoError(t, db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM outbox WHERE ce_type NOT IN
				('tandem.match_run.succeeded', 'tandem.match_run.failed', 'tandem.match.health_changed', 'tandem.session.reminder_due')`).Scan(&n))
			counts[svc] = n
		}
		return counts
	}
}

var pathParam = regexp.MustCompile(`\{([a-z_.]+)(=[^}]*)?\}`)

// httpRequest is the HTTP/JSON form of req by md's google.api.http rule:
// path parameters from the request, the body as the rule says, the other
// top-level scalars as query parameters. ok is false for a method with no
// HTTP rule.
func httpRequest(md protoreflect.MethodDescriptor, req proto.Message) (verb, path, body string, ok bool) {
	rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	if rule == nil {
		return "", "", "", false
	}
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		verb, path = http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		verb, path = http.MethodPost, p.Post
	case *annotations.HttpRule_Put:
		verb, path = http.MethodPut, p.Put
	case *annotations.HttpRule_Patch:
		verb, path = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Delete:
		verb, path = http.MethodDelete, p.Delete
	default:
		return "", "", "", false
	}
	msg := req.ProtoReflect()
	inPath := map[string]bool{}
	path = pathParam.ReplaceAllStringFunc(path, func(m string) string {
		field := pathParam.FindStringSubmatch(m)[1]
		inPath[strings.Split(field, ".")[0]] = true
		v := msg
		parts := strings.Split(field, ".")
		for _, name := range parts[:len(parts)-1] {
			v = v.Get(v.Descriptor().Fields().ByName(protoreflect.Name(name))).Message()
		}
		return url.PathEscape(v.Get(v.Descriptor().Fields().ByName(protoreflect.Name(parts[len(parts)-1]))).String())
	})
	query := url.Values{}
	switch rule.GetBody() {
	case "*":
		b, _ := protojson.Marshal(req)
		body = string(b)
	case "":
	default:
		fd := msg.Descriptor().Fields().ByName(protoreflect.Name(rule.GetBody()))
		b, _ := protojson.Marshal(msg.Get(fd).Message().Interface())
		body, inPath[rule.GetBody()] = string(b), true
	}
	if rule.GetBody() != "*" {
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if inPath[string(fd.Name())] || fd.IsList() || fd.IsMap() {
				return true
			}
			switch {
			case fd.Kind() == protoreflect.EnumKind:
				query.Set(string(fd.Name()), string(fd.Enum().Values().ByNumber(v.Enum()).Name()))
			case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.FieldMask":
				query.Set(string(fd.Name()), strings.Join(v.Message().Interface().(*fieldmaskpb.FieldMask).GetPaths(), ","))
			case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Timestamp":
				query.Set(string(fd.Name()), v.Message().Interface().(*timestamppb.Timestamp).AsTime().Format(time.RFC3339))
			case fd.Message() == nil:
				query.Set(string(fd.Name()), v.String())
			}
			return true
		})
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return verb, path, body, true
}

// seedMatrix builds the fixture as the tenant's admin, through the
// gateway: the program (pm@'s), four people imported into it
// with their subjects, the pair, its session, agreement, goal and calendar
// token, Olly's request, a finished match run.
func seedMatrix(t *testing.T, conn *grpc.ClientConn, admin, niaToken string) *fixture {
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+admin)
	people := participantv1.NewParticipantServiceClient(conn)
	matching := matchingv1.NewMatchingServiceClient(conn)
	scheduling := schedulingv1.NewSchedulingServiceClient(conn)
	evaluation := evaluationv1.NewEvaluationServiceClient(conn)
	f := &fixture{}
	_, err := people.CreateSkill(ctx, &participantv1.CreateSkillRequest{Skill: &participantv1.Skill{Id: "genai", DisplayName: "Generative AI"}})
	require.NoError(t, err)
	now := time.Now().UTC()
	program, err := people.CreateProgram(ctx, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Matrix", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, MaxMentorCapacity: 3,
		MeetingCadence:     participantv1.MeetingCadence_MEETING_CADENCE_WEEKLY,
		EnrollmentOpenTime: timestamppb.New(now.Add(-time.Hour)), EnrollmentCloseTime: timestamppb.New(now.Add(24 * time.Hour)),
		ManagerSubjects: []string{"pm@acme.example"},
	}})
	require.NoError(t, err)
	f.program = program.GetId()
	transition := func(state participantv1.ProgramState) {
		_, err := people.TransitionProgram(ctx, &participantv1.TransitionProgramRequest{Id: f.program, State: state})
		require.NoError(t, err)
	}
	transition(participantv1.ProgramState_PROGRAM_STATE_ENROLLING)
	csv := "hris_id,display_name,email,department,title,seniority_level,time_zone,languages,role,competencies,development_areas,work_style,communication_style,motivation,capacity\n" +
		"J1,Jo Junior,jo@acme.example,Engineering,Analyst,2,America/New_York,en,mentor,genai:4,,structured,direct,teach,3\n" +
		"S1,Sam Senior,sam@acme.example,Finance,Director,9,Europe/London,en,mentee,,genai:1:3,exploratory,direct,learn,\n" +
		"O1,Olly Other,olly@acme.example,Sales,Director,9,Europe/London,en,mentee,,genai:1:3,exploratory,direct,learn,\n" +
		"N1,Nia Nobody,nia@acme.example,Legal,Director,9,Europe/London,en,mentee,,genai:1:3,exploratory,direct,learn,\n"
	job, err := people.CreateImport(ctx, &participantv1.CreateImportRequest{Csv: []byte(csv), ProgramId: f.program})
	require.NoError(t, err)
	f.importID = job.GetId()
	testkit.Eventually(t, time.Minute, func() bool {
		job, err = people.GetImport(ctx, &participantv1.GetImportRequest{Id: f.importID})
		return err == nil && job.GetState() != participantv1.ImportState_IMPORT_STATE_RUNNING
	}, "import finished: %v", job)
	require.Equal(t, participantv1.ImportState_IMPORT_STATE_SUCCEEDED, job.GetState(), "%v", job)
	transition(participantv1.ProgramState_PROGRAM_STATE_MATCHING)
	list, err := people.ListParticipants(ctx, &participantv1.ListParticipantsRequest{ProgramId: f.program})
	require.NoError(t, err)
	for _, p := range list.GetParticipants() {
		person, err := people.GetPerson(ctx, &participantv1.GetPersonRequest{Id: p.GetPersonId()})
		require.NoError(t, err)
		switch person.GetHrisId() {
		case "J1":
			f.mentorPart, f.mentor = p.GetId(), p.GetPersonId()
		case "S1":
			f.menteePart, f.mentee = p.GetId(), p.GetPersonId()
		case "O1":
			f.ollyPart, f.olly = p.GetId(), p.GetPersonId()
		case "N1":
			f.niaPart = p.GetId()
		}
	}

	var match *matchingv1.Match
	testkit.Eventually(t, time.Minute, func() bool {
		match, err = matching.CreateMatch(ctx, &matchingv1.CreateMatchRequest{ProgramId: f.program, MentorParticipantId: f.mentorPart, MenteeParticipantId: f.menteePart})
		return err == nil
	}, "the matching service knows the pair: %v", err)
	f.matchID = match.GetId()
	for _, part := range []string{f.mentorPart, f.menteePart} {
		_, err = matching.AcceptMatch(ctx, &matchingv1.AcceptMatchRequest{Id: f.matchID, ParticipantId: part})
		require.NoError(t, err)
	}
	request, err := matching.CreateMatchRequest(ctx, &matchingv1.CreateMatchRequestRequest{ProgramId: f.program, RequesterParticipantId: f.ollyPart, TargetParticipantId: f.mentorPart})
	require.NoError(t, err)
	f.requestID = request.GetId()
	run, err := matching.CreateMatchRun(ctx, &matchingv1.CreateMatchRunRequest{ProgramId: f.program})
	require.NoError(t, err)
	f.runID = run.GetId()
	testkit.Eventually(t, time.Minute, func() bool {
		run, err = matching.GetMatchRun(ctx, &matchingv1.GetMatchRunRequest{Id: f.runID})
		return err == nil && run.GetState() != matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING
	}, "the match run finished: %v", err)

	start := now.Add(72 * time.Hour).Truncate(time.Hour)
	var session *schedulingv1.Session
	testkit.Eventually(t, time.Minute, func() bool {
		session, err = scheduling.CreateSession(ctx, &schedulingv1.CreateSessionRequest{MatchId: f.matchID, PersonId: f.mentor,
			StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(time.Hour))})
		return err == nil
	}, "the scheduling service knows the match: %v", err)
	f.sessionID = session.GetId()
	tok, err := scheduling.CreateCalendarToken(ctx, &schedulingv1.CreateCalendarTokenRequest{PersonId: f.mentor})
	require.NoError(t, err)
	f.calendarTokenID = tok.GetId()
	testkit.Eventually(t, time.Minute, func() bool {
		_, err = evaluation.CreateAgreement(ctx, &evaluationv1.CreateAgreementRequest{MatchId: f.matchID, PersonId: f.mentor})
		return err == nil
	}, "the evaluation service knows the match: %v", err)
	goal, err := evaluation.CreateGoal(ctx, &evaluationv1.CreateGoalRequest{PersonId: f.mentor, Goal: &evaluationv1.Goal{MatchId: f.matchID, Title: "Ship a GenAI demo"}})
	require.NoError(t, err)
	f.goalID = goal.GetId()
	// Nia must be known to every projection, or her refusals would prove
	// nothing: she reads what is hers once each service knows her.
	nia := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+niaToken)
	niaPerson := ""
	for _, p := range list.GetParticipants() {
		if p.GetId() == f.niaPart {
			niaPerson = p.GetPersonId()
		}
	}
	testkit.Eventually(t, time.Minute, func() bool {
		_, err1 := matching.ListMatchRequests(nia, &matchingv1.ListMatchRequestsRequest{ParticipantId: f.niaPart})
		_, err2 := scheduling.GetAvailability(nia, &schedulingv1.GetAvailabilityRequest{PersonId: niaPerson})
		_, err3 := evaluation.ListPulseSurveys(nia, &evaluationv1.ListPulseSurveysRequest{PersonId: niaPerson})
		err = errors.Join(err1, err2, err3)
		return err == nil
	}, "every service knows Nia: %v", err)
	return f
}

// matrixCases has one case per RPC of every service.
func matrixCases() map[string]matrixCase {
	const (
		ps = "/tandem.participant.v1.ParticipantService/"
		ms = "/tandem.matching.v1.MatchingService/"
		ss = "/tandem.scheduling.v1.SchedulingService/"
		es = "/tandem.evaluation.v1.EvaluationService/"
	)
	own := func(why string, req func(*fixture) proto.Message) matrixCase {
		return matrixCase{req: req, skip: map[string]string{otherTenant: why, otherParticipant: why}}
	}
	shared := func(why string, req func(*fixture) proto.Message) matrixCase {
		return matrixCase{req: req, skip: map[string]string{otherParticipant: why}}
	}
	on := func(req func(*fixture) proto.Message) matrixCase { return matrixCase{req: req} }
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	later := timestamppb.New(time.Now().Add(96 * time.Hour).Truncate(time.Hour))
	laterEnd := timestamppb.New(later.AsTime().Add(time.Hour))
	person := &participantv1.Person{DisplayName: "New", Email: "new@acme.example", TimeZone: "Europe/Paris", HrisId: "NEW1"}
	return map[string]matrixCase{
		ps + "GetTenant": own("the caller's own tenant", func(*fixture) proto.Message { return &participantv1.GetTenantRequest{} }),
		ps + "UpdateTenant": own("the caller's own tenant", func(*fixture) proto.Message {
			return &participantv1.UpdateTenantRequest{Tenant: &participantv1.Tenant{DisplayName: "Renamed"}, UpdateMask: mask("display_name")}
		}),
		ps + "CreatePerson": own("creates in the caller's tenant", func(*fixture) proto.Message { return &participantv1.CreatePersonRequest{Person: person} }),
		ps + "GetPerson":    on(func(f *fixture) proto.Message { return &participantv1.GetPersonRequest{Id: f.mentor} }),
		ps + "UpdatePerson": on(func(f *fixture) proto.Message {
			return &participantv1.UpdatePersonRequest{Person: &participantv1.Person{Id: f.mentor, Title: "Chief"}, UpdateMask: mask("title")}
		}),
		ps + "ListPeople":        own("lists the caller's tenant", func(*fixture) proto.Message { return &participantv1.ListPeopleRequest{} }),
		ps + "UpsertPerson":      own("upserts in the caller's tenant", func(*fixture) proto.Message { return &participantv1.UpsertPersonRequest{Person: person} }),
		ps + "GetReportingChain": on(func(f *fixture) proto.Message { return &participantv1.GetReportingChainRequest{Id: f.mentor} }),
		ps + "ExportPerson": on(func(f *fixture) proto.Message {
			return &participantv1.ExportPersonRequest{Id: f.mentor, Reason: "matrix"}
		}),
		ps + "ErasePerson": on(func(f *fixture) proto.Message {
			return &participantv1.ErasePersonRequest{Id: f.mentor, Reason: "matrix"}
		}),
		ps + "CreateSkill": own("creates in the caller's tenant", func(*fixture) proto.Message {
			return &participantv1.CreateSkillRequest{Skill: &participantv1.Skill{Id: "quantum", DisplayName: "Quantum"}}
		}),
		ps + "UpdateSkill": on(func(*fixture) proto.Message {
			return &participantv1.UpdateSkillRequest{Skill: &participantv1.Skill{Id: "genai", DisplayName: "GenAI"}, UpdateMask: mask("display_name")}
		}),
		ps + "ListSkills": own("the caller's tenant's catalogue", func(*fixture) proto.Message { return &participantv1.ListSkillsRequest{} }),
		ps + "CreateImport": on(func(f *fixture) proto.Message {
			return &participantv1.CreateImportRequest{Csv: []byte("hris_id,display_name,email,time_zone\nX1,X,x@acme.example,UTC\n"), ProgramId: f.program}
		}),
		ps + "GetImport": on(func(f *fixture) proto.Message { return &participantv1.GetImportRequest{Id: f.importID} }),
		ps + "ListImportRejections": on(func(f *fixture) proto.Message {
			return &participantv1.ListImportRejectionsRequest{ImportId: f.importID}
		}),
		ps + "CreateProgram": own("creates in the caller's tenant", func(*fixture) proto.Message {
			return &participantv1.CreateProgramRequest{Program: &participantv1.Program{DisplayName: "Mine", Type: participantv1.ProgramType_PROGRAM_TYPE_PEER}}
		}),
		ps + "GetProgram": shared("every member reads the program catalogue", func(f *fixture) proto.Message { return &participantv1.GetProgramRequest{Id: f.program} }),
		ps + "UpdateProgram": on(func(f *fixture) proto.Message {
			return &participantv1.UpdateProgramRequest{Program: &participantv1.Program{Id: f.program, Description: "taken"}, UpdateMask: mask("description")}
		}),
		ps + "ListPrograms": own("the caller's tenant's catalogue", func(*fixture) proto.Message { return &participantv1.ListProgramsRequest{} }),
		ps + "TransitionProgram": on(func(f *fixture) proto.Message {
			return &participantv1.TransitionProgramRequest{Id: f.program, State: participantv1.ProgramState_PROGRAM_STATE_CANCELLED, Reason: "matrix"}
		}),
		ps + "EnrollParticipant": on(func(f *fixture) proto.Message {
			return &participantv1.EnrollParticipantRequest{Participant: &participantv1.Participant{ProgramId: f.program, PersonId: f.mentor,
				Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE}}
		}),
		ps + "GetParticipant": on(func(f *fixture) proto.Message { return &participantv1.GetParticipantRequest{Id: f.mentorPart} }),
		ps + "UpdateParticipant": on(func(f *fixture) proto.Message {
			return &participantv1.UpdateParticipantRequest{Participant: &participantv1.Participant{Id: f.mentorPart, Motivation: "taken"}, UpdateMask: mask("motivation")}
		}),
		ps + "ListParticipants": on(func(f *fixture) proto.Message { return &participantv1.ListParticipantsRequest{ProgramId: f.program} }),
		ps + "WithdrawParticipant": on(func(f *fixture) proto.Message {
			return &participantv1.WithdrawParticipantRequest{Id: f.mentorPart, Reason: "matrix"}
		}),

		ms + "GetScoringConfig": on(func(f *fixture) proto.Message { return &matchingv1.GetScoringConfigRequest{ProgramId: f.program} }),
		ms + "UpdateScoringConfig": on(func(f *fixture) proto.Message {
			return &matchingv1.UpdateScoringConfigRequest{Config: &matchingv1.ScoringConfig{ProgramId: f.program, Version: 1,
				Weights: &matchingv1.Weights{CompetencyCoverage: 1}}}
		}),
		ms + "CreateMatchRun":        on(func(f *fixture) proto.Message { return &matchingv1.CreateMatchRunRequest{ProgramId: f.program} }),
		ms + "GetMatchRun":           on(func(f *fixture) proto.Message { return &matchingv1.GetMatchRunRequest{Id: f.runID} }),
		ms + "ListMatchRuns":         on(func(f *fixture) proto.Message { return &matchingv1.ListMatchRunsRequest{ProgramId: f.program} }),
		ms + "ListMatchRunPairs":     on(func(f *fixture) proto.Message { return &matchingv1.ListMatchRunPairsRequest{RunId: f.runID} }),
		ms + "ListMatchRunUnmatched": on(func(f *fixture) proto.Message { return &matchingv1.ListMatchRunUnmatchedRequest{RunId: f.runID} }),
		ms + "CompareMatchRuns": on(func(f *fixture) proto.Message {
			return &matchingv1.CompareMatchRunsRequest{RunId: f.runID, OtherRunId: f.runID}
		}),
		ms + "PublishMatchRun": on(func(f *fixture) proto.Message { return &matchingv1.PublishMatchRunRequest{Id: f.runID} }),
		ms + "GetMatch":        on(func(f *fixture) proto.Message { return &matchingv1.GetMatchRequest{Id: f.matchID} }),
		ms + "ListMatches":     on(func(f *fixture) proto.Message { return &matchingv1.ListMatchesRequest{ProgramId: f.program} }),
		ms + "CreateMatch": on(func(f *fixture) proto.Message {
			return &matchingv1.CreateMatchRequest{ProgramId: f.program, MentorParticipantId: f.mentorPart, MenteeParticipantId: f.ollyPart}
		}),
		ms + "AcceptMatch": on(func(f *fixture) proto.Message {
			return &matchingv1.AcceptMatchRequest{Id: f.matchID, ParticipantId: f.menteePart}
		}),
		ms + "DeclineMatch": on(func(f *fixture) proto.Message {
			return &matchingv1.DeclineMatchRequest{Id: f.matchID, ParticipantId: f.menteePart}
		}),
		ms + "ActivateMatch": on(func(f *fixture) proto.Message { return &matchingv1.ActivateMatchRequest{Id: f.matchID} }),
		ms + "EndMatch":      on(func(f *fixture) proto.Message { return &matchingv1.EndMatchRequest{Id: f.matchID, Reason: "matrix"} }),
		ms + "CreateMatchRequest": on(func(f *fixture) proto.Message {
			return &matchingv1.CreateMatchRequestRequest{ProgramId: f.program, RequesterParticipantId: f.ollyPart, TargetParticipantId: f.mentorPart}
		}),
		ms + "GetMatchRequest":   on(func(f *fixture) proto.Message { return &matchingv1.GetMatchRequestRequest{Id: f.requestID} }),
		ms + "ListMatchRequests": on(func(f *fixture) proto.Message { return &matchingv1.ListMatchRequestsRequest{ParticipantId: f.ollyPart} }),
		ms + "ApproveMatchRequest": on(func(f *fixture) proto.Message {
			return &matchingv1.ApproveMatchRequestRequest{Id: f.requestID, ParticipantId: f.mentorPart}
		}),
		ms + "RejectMatchRequest": on(func(f *fixture) proto.Message {
			return &matchingv1.RejectMatchRequestRequest{Id: f.requestID, ParticipantId: f.mentorPart}
		}),
		ms + "CancelMatchRequest": on(func(f *fixture) proto.Message {
			return &matchingv1.CancelMatchRequestRequest{Id: f.requestID, ParticipantId: f.ollyPart}
		}),
		ms + "ListCandidates": on(func(f *fixture) proto.Message {
			return &matchingv1.ListCandidatesRequest{ProgramId: f.program, ParticipantId: f.ollyPart}
		}),

		ss + "GetAvailability": on(func(f *fixture) proto.Message { return &schedulingv1.GetAvailabilityRequest{PersonId: f.mentor} }),
		ss + "SetAvailability": on(func(f *fixture) proto.Message {
			return &schedulingv1.SetAvailabilityRequest{Availability: &schedulingv1.Availability{PersonId: f.mentor, TimeZone: "UTC"}}
		}),
		ss + "SuggestSlots": on(func(f *fixture) proto.Message { return &schedulingv1.SuggestSlotsRequest{MatchId: f.matchID} }),
		ss + "CreateSession": on(func(f *fixture) proto.Message {
			return &schedulingv1.CreateSessionRequest{MatchId: f.matchID, PersonId: f.mentee, StartTime: later, EndTime: laterEnd}
		}),
		ss + "CreateSeries": on(func(f *fixture) proto.Message {
			return &schedulingv1.CreateSeriesRequest{MatchId: f.matchID, PersonId: f.mentee, Cadence: schedulingv1.Cadence_CADENCE_WEEKLY,
				FirstStartTime: later, DurationMinutes: 60, Occurrences: 2}
		}),
		ss + "GetSession":   on(func(f *fixture) proto.Message { return &schedulingv1.GetSessionRequest{Id: f.sessionID} }),
		ss + "ListSessions": on(func(f *fixture) proto.Message { return &schedulingv1.ListSessionsRequest{PersonId: f.mentor} }),
		ss + "ConfirmSession": on(func(f *fixture) proto.Message {
			return &schedulingv1.ConfirmSessionRequest{Id: f.sessionID, PersonId: f.mentee}
		}),
		ss + "RescheduleSession": on(func(f *fixture) proto.Message {
			return &schedulingv1.RescheduleSessionRequest{Id: f.sessionID, PersonId: f.mentee, StartTime: later, EndTime: laterEnd, Reason: "matrix"}
		}),
		ss + "CancelSession": on(func(f *fixture) proto.Message {
			return &schedulingv1.CancelSessionRequest{Id: f.sessionID, PersonId: f.mentee, Reason: "matrix"}
		}),
		ss + "CompleteSession": on(func(f *fixture) proto.Message { return &schedulingv1.CompleteSessionRequest{Id: f.sessionID} }),
		ss + "MarkNoShow": on(func(f *fixture) proto.Message {
			return &schedulingv1.MarkNoShowRequest{Id: f.sessionID, AbsentPersonId: f.mentee}
		}),
		ss + "CreateRoom": own("creates in the caller's tenant", func(*fixture) proto.Message {
			return &schedulingv1.CreateRoomRequest{Room: &schedulingv1.Room{DisplayName: "Room 1", Capacity: 4}}
		}),
		ss + "ListRooms":           own("the caller's tenant's rooms", func(*fixture) proto.Message { return &schedulingv1.ListRoomsRequest{} }),
		ss + "CreateCalendarToken": on(func(f *fixture) proto.Message { return &schedulingv1.CreateCalendarTokenRequest{PersonId: f.mentor} }),
		ss + "ListCalendarTokens":  on(func(f *fixture) proto.Message { return &schedulingv1.ListCalendarTokensRequest{PersonId: f.mentor} }),
		ss + "RevokeCalendarToken": on(func(f *fixture) proto.Message {
			return &schedulingv1.RevokeCalendarTokenRequest{PersonId: f.mentor, Id: f.calendarTokenID}
		}),
		ss + "GetCalendarFeed": {open: "the secret feed token is the credential (scheduling's feed tests)"},

		es + "GetEvaluationSettings": shared("every member reads a program's settings", func(f *fixture) proto.Message {
			return &evaluationv1.GetEvaluationSettingsRequest{ProgramId: f.program}
		}),
		es + "UpdateEvaluationSettings": on(func(f *fixture) proto.Message {
			return &evaluationv1.UpdateEvaluationSettingsRequest{Settings: &evaluationv1.EvaluationSettings{ProgramId: f.program, PulseSurveyDays: []int32{14}}}
		}),
		es + "CreateAgreement": on(func(f *fixture) proto.Message {
			return &evaluationv1.CreateAgreementRequest{MatchId: f.matchID, PersonId: f.mentee}
		}),
		es + "GetAgreement": on(func(f *fixture) proto.Message { return &evaluationv1.GetAgreementRequest{MatchId: f.matchID} }),
		es + "UpdateAgreement": on(func(f *fixture) proto.Message {
			return &evaluationv1.UpdateAgreementRequest{MatchId: f.matchID, PersonId: f.mentee, Version: 1,
				Terms: &evaluationv1.AgreementTerms{TopicScope: "taken"}}
		}),
		es + "SignAgreement": on(func(f *fixture) proto.Message {
			return &evaluationv1.SignAgreementRequest{MatchId: f.matchID, PersonId: f.mentee, Version: 1}
		}),
		es + "CreateGoal": on(func(f *fixture) proto.Message {
			return &evaluationv1.CreateGoalRequest{PersonId: f.mentee, Goal: &evaluationv1.Goal{MatchId: f.matchID, Title: "taken"}}
		}),
		es + "UpdateGoal": on(func(f *fixture) proto.Message {
			return &evaluationv1.UpdateGoalRequest{PersonId: f.mentee, Goal: &evaluationv1.Goal{Id: f.goalID, Title: "taken"}, UpdateMask: mask("title")}
		}),
		es + "ListGoals": on(func(f *fixture) proto.Message { return &evaluationv1.ListGoalsRequest{MatchId: f.matchID} }),
		es + "SubmitFeedback": on(func(f *fixture) proto.Message {
			return &evaluationv1.SubmitFeedbackRequest{SessionId: f.sessionID, PersonId: f.mentee, Rating: 4}
		}),
		es + "ListFeedback": on(func(f *fixture) proto.Message { return &evaluationv1.ListFeedbackRequest{MatchId: f.matchID} }),
		// No feedback exists (the session is not held): an unknown id must
		// be refused like any other.
		es + "ReadPrivateComment": on(func(f *fixture) proto.Message {
			return &evaluationv1.ReadPrivateCommentRequest{FeedbackId: f.sessionID, PersonId: f.mentee, Reason: "matrix"}
		}),
		es + "ListPulseSurveys": on(func(f *fixture) proto.Message { return &evaluationv1.ListPulseSurveysRequest{PersonId: f.mentee} }),
		es + "SubmitPulseResponse": on(func(f *fixture) proto.Message {
			return &evaluationv1.SubmitPulseResponseRequest{MatchId: f.matchID, PersonId: f.mentee, Day: 30, Satisfaction: 4, Recommend: 9}
		}),
		es + "SubmitSelfAssessment": on(func(f *fixture) proto.Message {
			return &evaluationv1.SubmitSelfAssessmentRequest{ParticipantId: f.menteePart, Phase: evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_PRE,
				Levels: []*evaluationv1.SkillLevel{{SkillId: "genai", Level: 2}}}
		}),
		es + "ListSelfAssessments": on(func(f *fixture) proto.Message {
			return &evaluationv1.ListSelfAssessmentsRequest{ParticipantId: f.menteePart}
		}),
		es + "GetMatchHealth":      on(func(f *fixture) proto.Message { return &evaluationv1.GetMatchHealthRequest{MatchId: f.matchID} }),
		es + "ListPairsAtRisk":     on(func(f *fixture) proto.Message { return &evaluationv1.ListPairsAtRiskRequest{ProgramId: f.program} }),
		es + "GetProgramReport":    on(func(f *fixture) proto.Message { return &evaluationv1.GetProgramReportRequest{ProgramId: f.program} }),
		es + "ExportProgramReport": on(func(f *fixture) proto.Message { return &evaluationv1.ExportProgramReportRequest{ProgramId: f.program} }),
	}
}
