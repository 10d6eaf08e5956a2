package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/devserver"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

// apiCommands are the constructors of the commands that call the API; each
// file adds its own in an init function.
var apiCommands []func(*client) *cobra.Command

// Exit codes scripts can rely on (docs/cli.md).
const (
	exitError       = 1 // anything else
	exitUsage       = 2 // bad flags or arguments, invalid input
	exitNotFound    = 3
	exitDenied      = 4 // unauthenticated or permission denied
	exitConflict    = 5 // exists already, or the state does not allow it
	exitUnavailable = 6 // the gateway or a service cannot be reached
)

// client is how a command reaches the API: the connection settings from
// flags, environment and profile, and the output format.
type client struct {
	addr, token, tenant, profile, dataDir, output string
	tls                                           bool
	conn                                          *grpc.ClientConn
}

// profile is a named set of connection settings in the user's config
// directory.
type profile struct {
	Addr   string `json:"addr,omitempty"`
	Token  string `json:"token,omitempty"`
	Tenant string `json:"tenant,omitempty"`
	TLS    bool   `json:"tls,omitempty"`
}

func profilesPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config directory: %w", err)
	}
	return filepath.Join(dir, "tandem", "profiles.json"), nil
}

func loadProfiles() (map[string]profile, error) {
	path, err := profilesPath()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]profile{}, nil
	}
	if err != nil {
		return nil, err
	}
	ps := map[string]profile{}
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, nil
}

// addFlags declares the connection and output flags on root.
func (c *client) addFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&c.addr, "addr", "", "gateway gRPC address (env TANDEM_ADDR; default 127.0.0.1:9090, where tandem dev listens)")
	f.StringVar(&c.token, "token", "", "bearer token (env TANDEM_TOKEN)")
	f.StringVar(&c.tenant, "tenant", "", "tenant; without a token, a dev token of --data-dir is issued for it (env TANDEM_TENANT)")
	f.StringVar(&c.profile, "profile", "", "named settings saved with \"tandem profile set\" (env TANDEM_PROFILE; default: the profile named default)")
	f.StringVar(&c.dataDir, "data-dir", "./tandem-data", "data directory of \"tandem dev\", for dev tokens")
	f.BoolVar(&c.tls, "tls", false, "use TLS to the gateway (env TANDEM_TLS=true)")
	f.StringVarP(&c.output, "output", "o", "table", "output format: table or json")
}

// resolve fills unset settings from the environment, then the profile,
// then the defaults.
func (c *client) resolve(cmd *cobra.Command) error {
	if c.output != "table" && c.output != "json" {
		return usageErr("--output %q: must be table or json", c.output)
	}
	env := func(flag, key string, v *string) {
		if !cmd.Flags().Changed(flag) && *v == "" {
			*v = os.Getenv(key)
		}
	}
	env("addr", "TANDEM_ADDR", &c.addr)
	env("token", "TANDEM_TOKEN", &c.token)
	env("tenant", "TANDEM_TENANT", &c.tenant)
	env("profile", "TANDEM_PROFILE", &c.profile)
	if !cmd.Flags().Changed("tls") && os.Getenv("TANDEM_TLS") == "true" {
		c.tls = true
	}
	ps, err := loadProfiles()
	if err != nil {
		return err
	}
	name := c.profile
	if name == "" {
		name = "default"
	}
	p, ok := ps[name]
	if !ok && c.profile != "" {
		return usageErr("--profile %q: no such profile; `tandem profile list` shows them", c.profile)
	}
	c.addr = firstSet(c.addr, p.Addr, "127.0.0.1:9090")
	c.token = firstSet(c.token, p.Token)
	c.tenant = firstSet(c.tenant, p.Tenant)
	c.tls = c.tls || p.TLS
	return nil
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// connect dials the gateway once; the token is sent with every call.
func (c *client) connect(cmd *cobra.Command) (*grpc.ClientConn, error) {
	if c.conn != nil {
		return c.conn, nil
	}
	if err := c.resolve(cmd); err != nil {
		return nil, err
	}
	switch {
	case c.token == "" && c.tenant == "":
		return nil, usageErr("no credentials: give --token (or TANDEM_TOKEN), or --tenant to use a dev token of `tandem dev`")
	case c.token == "":
		tok, err := devToken(cmd, c.dataDir, c.tenant)
		if err != nil {
			return nil, err
		}
		c.token = tok
	case c.tenant != "":
		if t := tokenTenant(c.token); t != "" && t != c.tenant {
			return nil, usageErr("the token is for tenant %q but --tenant says %q", t, c.tenant)
		}
	}
	creds := insecure.NewCredentials()
	if c.tls {
		creds = credentials.NewClientTLSFromCert(nil, "")
	}
	conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(creds),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
			return invoker(ctx, method, req, reply, cc, opts...)
		}))
	if err != nil {
		return nil, usageErr("--addr %q: %v", c.addr, err)
	}
	c.conn = conn
	cmd.PostRunE = func(*cobra.Command, []string) error { return conn.Close() }
	return conn, nil
}

// devToken issues a tenant admin token with the dev issuer's key of a
// local `tandem dev`, creating the tenant if needed, as `tandem token` does.
func devToken(cmd *cobra.Command, dataDir, tenant string) (string, error) {
	if _, err := os.Stat(filepath.Join(dataDir)); err != nil {
		return "", usageErr("no token, and no `tandem dev` data directory at %s (--data-dir): give --token or run `make run` first", dataDir)
	}
	signer, err := auth.LoadOrCreateDevSigner(dataDir)
	if err != nil {
		return "", err
	}
	if _, err := participantsvc.EnsureTenant(cmd.Context(), devserver.ParticipantDB(dataDir), tenant, ""); err != nil {
		return "", usageErr("--tenant %q: %v", tenant, err)
	}
	return signer.Sign(auth.Principal{Tenant: tenant, Subject: "cli@" + tenant, Roles: []string{auth.RoleTenantAdmin}}, time.Hour)
}

// tokenTenant reads the tenant claim of a token without verifying it (the
// gateway does); "" when it cannot.
func tokenTenant(tok string) string {
	var claims auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
		return ""
	}
	return claims.Tenant
}

// printJSON writes messages as JSON: one message as an object, a list as
// an array.
func printJSON(w io.Writer, msgs ...proto.Message) error {
	var parts []string
	for _, m := range msgs {
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(m)
		if err != nil {
			return err
		}
		parts = append(parts, string(b))
	}
	_, err := fmt.Fprintln(w, strings.Join(parts, ",\n"))
	return err
}

// render prints one message (or a list when list is true) as JSON, or
// calls table for the human form.
func (c *client) render(w io.Writer, table func(*tabwriter.Writer), list bool, msgs ...proto.Message) error {
	if c.output == "json" {
		if !list {
			return printJSON(w, msgs...)
		}
		fmt.Fprintln(w, "[")
		if len(msgs) > 0 {
			if err := printJSON(w, msgs...); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintln(w, "]")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// row writes one tab-separated table row.
func row(w io.Writer, cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(w, strings.Join(s, "\t"))
}

// cliError is an error with an exit code.
type cliError struct {
	code int
	msg  string
}

func (e *cliError) Error() string { return e.msg }

func usageErr(format string, args ...any) error {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// exitCode maps an error to the documented exit codes and a message that
// says what to fix: the status message and every field violation.
func exitCode(err error) (int, string) {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code, ce.msg
	}
	st, ok := status.FromError(err)
	if !ok {
		// cobra's own errors: unknown commands and wrong arguments.
		if m := err.Error(); strings.HasPrefix(m, "unknown command") || strings.Contains(m, " arg(s)") ||
			strings.HasPrefix(m, "invalid argument") || strings.HasPrefix(m, "required flag") {
			return exitUsage, err.Error()
		}
		return exitError, err.Error()
	}
	msg := st.Message()
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				msg += fmt.Sprintf("\n  %s: %s", v.GetField(), v.GetDescription())
			}
		}
	}
	codeNames := map[codes.Code]int{
		codes.InvalidArgument: exitUsage, codes.OutOfRange: exitUsage,
		codes.NotFound:        exitNotFound,
		codes.Unauthenticated: exitDenied, codes.PermissionDenied: exitDenied,
		codes.AlreadyExists: exitConflict, codes.FailedPrecondition: exitConflict, codes.Aborted: exitConflict,
		codes.Unavailable: exitUnavailable, codes.DeadlineExceeded: exitUnavailable,
	}
	code, ok := codeNames[st.Code()]
	if !ok {
		code = exitError
	}
	hint := map[codes.Code]string{
		codes.Unauthenticated: " (check --token or TANDEM_TOKEN)",
		codes.Unavailable:     " (is the gateway running at --addr?)",
	}[st.Code()]
	return code, fmt.Sprintf("%s: %s%s", st.Code(), msg, hint)
}

// newProfileCmd saves and lists connection profiles.
func newProfileCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "profile", Short: "Save connection settings (address, token, tenant) under a name"}
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Save the --addr, --token, --tenant and --tls given under NAME",
		Long: `Saves the connection flags given under NAME in the user's config directory
(file mode 0600). Commands use the profile named by --profile or
TANDEM_PROFILE, else the one named "default"; flags and environment
variables override its values.`,
		Example: `  tandem profile set default --addr gateway.tandem.example:443 --tls --token "$TOKEN"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := loadProfiles()
			if err != nil {
				return err
			}
			ps[args[0]] = profile{Addr: c.addr, Token: c.token, Tenant: c.tenant, TLS: c.tls}
			path, err := profilesPath()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return err
			}
			b, err := json.MarshalIndent(ps, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "profile %s saved in %s\n", args[0], path)
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the saved profiles (tokens are not shown)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := loadProfiles()
			if err != nil {
				return err
			}
			names := make([]string, 0, len(ps))
			for n := range ps {
				names = append(names, n)
			}
			sort.Strings(names)
			if c.output == "json" {
				type shown struct {
					Name     string `json:"name"`
					Addr     string `json:"addr,omitempty"`
					Tenant   string `json:"tenant,omitempty"`
					TLS      bool   `json:"tls,omitempty"`
					HasToken bool   `json:"hasToken"`
				}
				list := []shown{}
				for _, n := range names {
					p := ps[n]
					list = append(list, shown{Name: n, Addr: p.Addr, Tenant: p.Tenant, TLS: p.TLS, HasToken: p.Token != ""})
				}
				b, err := json.MarshalIndent(list, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			row(tw, "NAME", "ADDR", "TENANT", "TLS", "TOKEN")
			for _, n := range names {
				p := ps[n]
				row(tw, n, p.Addr, p.Tenant, p.TLS, p.Token != "")
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(set, list)
	return cmd
}

// requireFlags returns a usage error naming the first of names not given.
func requireFlags(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			return usageErr("--%s is required: %s", n, cmd.Flags().Lookup(n).Usage)
		}
	}
	return nil
}

// orDash shows an empty cell as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
