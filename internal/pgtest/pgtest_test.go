package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/internal/pgtest"
)

// TestStartRestart starts a server of its own, writes to a new database,
// restarts the server and reads the row back.
func TestStartRestart(t *testing.T) {
	s := pgtest.Start(t)
	dsn := s.NewDatabase(t)
	ctx := t.Context()
	exec := func(sql string) int {
		t.Helper()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(context.Background())
		var n int
		if err := c.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	exec("SELECT count(*) FROM (SELECT 1 FROM pg_tables LIMIT 0) AS a")
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE x AS SELECT 7 AS n"); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	s.Restart(t)
	if n := exec("SELECT n FROM x"); n != 7 {
		t.Fatalf("after the restart, x holds %d, want 7", n)
	}
	s.Stop(t)
	if _, err := pgx.Connect(ctx, dsn); err == nil {
		t.Fatal("connected to a stopped server")
	}
	s.Start(t)
	if n := exec("SELECT n FROM x"); n != 7 {
		t.Fatalf("after stop and start, x holds %d, want 7", n)
	}
	if _, err := os.Stat(s.SocketDir()); err != nil {
		t.Fatal(err)
	}
}

// TestSharedDatabases checks that two databases of the shared server are
// apart.
func TestSharedDatabases(t *testing.T) {
	s := pgtest.Shared(t)
	a, b := s.NewDatabase(t), s.NewDatabase(t)
	if a == b {
		t.Fatalf("two databases with one DSN %s", a)
	}
	for _, dsn := range []string{a, b} {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Host != s.SocketDir() || cfg.User != "postgres" {
			t.Fatalf("%s parses as host %q user %q", dsn, cfg.Host, cfg.User)
		}
		c, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		c.Close(context.Background())
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }
