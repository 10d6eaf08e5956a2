package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver to create the private server's database
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// privatePostgres is a PostgreSQL server of the test's own (initdb in a
// temporary directory, a random port), so it can be stopped hard without
// touching the machine's server.
type privatePostgres struct {
	t       *testing.T
	bin     string
	data    string
	port    string
	logPath string
	cred    *syscall.Credential
}

// startPrivatePostgres runs initdb and starts the server. As root it runs
// both as the postgres user, as PostgreSQL requires.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	initdb := findBinary(t, "initdb", "/usr/lib/postgresql/*/bin")
	base, err := os.MkdirTemp("", "tandem-e2e-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	_, port, _ := net.SplitHostPort(freeAddr(t))
	pg := &privatePostgres{t: t, bin: filepath.Dir(initdb), data: filepath.Join(base, "data"), port: port, logPath: filepath.Join(base, "server.log")}
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			testkit.Unavailable(t, "a postgres user to run a private PostgreSQL as", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(base, uid, gid))
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	pg.run("initdb", "-D", pg.data, "-U", "postgres", "-A", "trust", "--no-sync")
	pg.start()
	t.Cleanup(func() {
		if err := pg.ctl("stop", "-m", "fast"); err != nil {
			t.Logf("stop private PostgreSQL: %v", err)
		}
	})
	return pg
}

// url returns the URL of database db on the private server.
func (pg *privatePostgres) url(db string) string {
	return "postgres://postgres@127.0.0.1:" + pg.port + "/" + db + "?sslmode=disable"
}

// createDatabase creates db and returns its URL.
func (pg *privatePostgres) createDatabase(db string) string {
	pg.t.Helper()
	admin, err := sql.Open("pgx", pg.url("postgres"))
	require.NoError(pg.t, err)
	defer admin.Close()
	_, err = admin.Exec("CREATE DATABASE " + db)
	require.NoError(pg.t, err)
	return pg.url(db)
}

// start starts the server and waits until it accepts connections.
func (pg *privatePostgres) start() {
	pg.t.Helper()
	require.NoError(pg.t, pg.ctl("start", "-w", "-t", "60", "-l", pg.logPath,
		"-o", "-p "+pg.port+" -k "+filepath.Dir(pg.data)+" -c listen_addresses=127.0.0.1"))
}

// ctl runs pg_ctl on the private data directory.
func (pg *privatePostgres) ctl(args ...string) error {
	cmd := exec.Command(filepath.Join(pg.bin, "pg_ctl"), append([]string{"-D", pg.data}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %v: %w\n%s", args, err, out)
	}
	return nil
}

func (pg *privatePostgres) run(name string, args ...string) {
	pg.t.Helper()
	cmd := exec.Command(filepath.Join(pg.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	out, err := cmd.CombinedOutput()
	require.NoError(pg.t, err, "%s: %s", name, out)
}

// TestPostgresImmediateStop stops the participant service's PostgreSQL
// (a private server) with `pg_ctl stop -m immediate` while clients write
// people through the gateway, starts it again, and checks that every
// acknowledged write is stored, that writes succeed again after the
// restart (the first calls may still meet a pooled connection of the old
// server), and that no call ever failed with anything but Unavailable:
// a lost database is "retry later", never Internal.
func TestPostgresImmediateStop(t *testing.T) {
	codesByPhase := stopPostgresUnderWrites(t)
	for phase, byCode := range codesByPhase {
		for code, n := range byCode {
			require.True(t, code == codes.OK || code == codes.Unavailable, "phase %d: %d calls failed with %s, want Unavailable", phase, n, code)
		}
	}
	require.Positive(t, codesByPhase[1][codes.Unavailable], "clients see Unavailable while the database is down")
}

// stopPostgresUnderWrites runs the immediate stop of
// TestPostgresImmediateStop, checks that no acknowledged write was lost,
// and returns the calls' codes before the stop, while the database was
// down, and after its restart.
func stopPostgresUnderWrites(t *testing.T) [3]map[codes.Code]int {
	t.Helper()
	pg := startPrivatePostgres(t)
	c := startCluster(t, clusterOptions{databaseURLs: map[string]string{"participant": pg.createDatabase("participant")}})
	ctx := c.ctx(c.token("admin@e2e.example", "tenant_admin"))
	people := participantv1.NewParticipantServiceClient(c.conn)

	const (
		up = iota
		down
		back
	)
	var phase atomic.Int32
	var mu sync.Mutex
	codesByPhase := [3]map[codes.Code]int{{}, {}, {}}
	acked := map[string]string{} // hris id → person id
	var next atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				hris := fmt.Sprintf("W%07d", next.Add(1))
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				got, err := people.UpsertPerson(cctx, &participantv1.UpsertPersonRequest{Person: &participantv1.Person{
					HrisId: hris, DisplayName: "Writer", Email: hris + "@e2e.example", TimeZone: "UTC"}})
				cancel()
				mu.Lock()
				codesByPhase[phase.Load()][status.Code(err)]++
				if err == nil {
					acked[hris] = got.GetId()
				}
				mu.Unlock()
			}
		})
	}
	count := func(p int32, code codes.Code) int {
		mu.Lock()
		defer mu.Unlock()
		if code == codes.Unknown { // every call of the phase
			n := 0
			for _, k := range codesByPhase[p] {
				n += k
			}
			return n
		}
		return codesByPhase[p][code]
	}
	atLeast := func(what string, p int32, code codes.Code, n int) {
		t.Helper()
		poll(t, 2*time.Minute, what, func() error {
			if got := count(p, code); got < n {
				return fmt.Errorf("%d of %d", got, n)
			}
			return nil
		})
	}
	atLeast("writes before the stop", up, codes.OK, 300)
	phase.Store(down)
	stopped := time.Now()
	require.NoError(t, pg.ctl("stop", "-m", "immediate"))
	atLeast("calls while PostgreSQL is down", down, codes.Unknown, 200)
	pg.start()
	phase.Store(back)
	restarted := time.Now()
	atLeast("writes after the restart", back, codes.OK, 300)
	close(stop)
	wg.Wait()

	// Every acknowledged write is stored.
	stored := map[string]string{}
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		require.Less(t, pages, 1000)
		page, err := people.ListPeople(ctx, &participantv1.ListPeopleRequest{PageSize: 1000, PageToken: token})
		require.NoError(t, err)
		for _, p := range page.GetPeople() {
			stored[p.GetHrisId()] = p.GetId()
		}
		token = page.GetNextPageToken()
	}
	lost := 0
	for hris, id := range acked {
		if stored[hris] != id {
			lost++
		}
	}
	t.Logf("FIGURE PostgreSQL immediate stop under writes: %d acknowledged writes, %d lost; calls by code: before %v, while down (%s) %v, after restart %v",
		len(acked), lost, codesByPhase[up], restarted.Sub(stopped).Round(time.Millisecond), codesByPhase[down], codesByPhase[back])
	require.Zero(t, lost, "acknowledged writes lost")
	return codesByPhase
}
