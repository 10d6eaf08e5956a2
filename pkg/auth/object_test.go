package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
)

// fakeDirectory is a fixed directory: ada is person p-ada, and mia manages
// program prog-a.
type fakeDirectory struct{}

func (fakeDirectory) PersonID(_ context.Context, tenant, subject string) (string, error) {
	if tenant == "acme" && subject == "ada" {
		return "p-ada", nil
	}
	return "", nil
}

func (fakeDirectory) ProgramExists(_ context.Context, tenant, id string) (bool, error) {
	return tenant == "acme" && id != "prog-gone", nil
}

func (fakeDirectory) PersonExists(_ context.Context, tenant, id string) (bool, error) {
	return tenant == "acme" && id != "p-gone", nil
}

func (fakeDirectory) Manages(_ context.Context, tenant, program, subject string) (bool, error) {
	return tenant == "acme" && program == "prog-a" && subject == "mia", nil
}

// TestAllow decides each kind of object for each kind of caller.
func TestAllow(t *testing.T) {
	t.Parallel()
	as := func(subject string, roles ...string) context.Context {
		return auth.WithPrincipal(context.Background(), auth.Principal{Tenant: "acme", Subject: subject, Roles: roles})
	}
	pair := auth.Object{ProgramID: "prog-a", PersonIDs: []string{"p-ada", "p-bob"}}
	otherPair := auth.Object{ProgramID: "prog-b", PersonIDs: []string{"p-cem", "p-bob"}}
	tests := []struct {
		name  string
		ctx   context.Context
		obj   auth.Object
		allow bool
	}{
		{"admin acts on any pair", as("root", auth.RoleTenantAdmin), otherPair, true},
		{"service acts on any person", as("svc", auth.RoleService), auth.Person("p-bob"), true},
		{"anyone reads tenant-level data", as("ada", auth.RoleParticipant), auth.Object{}, true},
		{"participant acts on their pair", as("ada", auth.RoleParticipant), pair, true},
		{"participant cannot act on another pair", as("ada", auth.RoleParticipant), otherPair, false},
		{"participant acts on their own person", as("ada", auth.RoleParticipant), auth.Person("p-ada"), true},
		{"participant cannot act on another person", as("ada", auth.RoleParticipant), auth.Person("p-bob"), false},
		{"participant cannot list a program", as("ada", auth.RoleParticipant), auth.Program("prog-a"), false},
		{"participant cannot list everyone", as("ada", auth.RoleParticipant), auth.Everyone, false},
		{"unknown subject is nobody", as("zed", auth.RoleParticipant), pair, false},
		{"manager acts on their program", as("mia", auth.RoleProgramManager), auth.Program("prog-a"), true},
		{"manager acts on a pair of their program", as("mia", auth.RoleProgramManager), pair, true},
		{"manager cannot act on another program", as("mia", auth.RoleProgramManager), otherPair, false},
		{"manager cannot act on a person's own data", as("mia", auth.RoleProgramManager), auth.Person("p-ada"), false},
		{"manager cannot list everyone", as("mia", auth.RoleProgramManager), auth.Everyone, false},
		{"manager and participant passes on either", as("ada", auth.RoleProgramManager, auth.RoleParticipant), pair, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := auth.Allow(tc.ctx, fakeDirectory{}, tc.obj)
			if tc.allow {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, apperr.ErrPermissionDenied)
			}
		})
	}
}

// TestObjectsCheck fails a policy whose RPC has no object rule.
func TestObjectsCheck(t *testing.T) {
	t.Parallel()
	policy := auth.Policy{"/s/A": {auth.RoleTenantAdmin}, "/s/B": {auth.RoleParticipant}, "/s/Feed": {auth.Anyone}}
	require.NoError(t, auth.Objects{"/s/A": auth.Tenantwide, "/s/B": auth.Tenantwide}.Check(policy))
	err := auth.Objects{"/s/A": auth.Tenantwide}.Check(policy)
	require.ErrorContains(t, err, "/s/B")
}

// TestObjectsInterceptor runs a call's rule and refuses what Allow refuses.
func TestObjectsInterceptor(t *testing.T) {
	t.Parallel()
	objects := auth.Objects{"/s/Get": func(_ context.Context, req any) (auth.Object, error) {
		return auth.Person(req.(string)), nil
	}}
	ic := objects.Interceptor(fakeDirectory{})
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Tenant: "acme", Subject: "ada", Roles: []string{auth.RoleParticipant}})
	call := func(req string) error {
		_, err := ic(ctx, req, &grpc.UnaryServerInfo{FullMethod: "/s/Get"}, func(context.Context, any) (any, error) { return "ok", nil })
		return err
	}
	require.NoError(t, call("p-ada"))
	require.ErrorIs(t, call("p-bob"), apperr.ErrPermissionDenied)
	require.ErrorIs(t, call("p-gone"), apperr.ErrNotFound, "an id the tenant does not have")
}
