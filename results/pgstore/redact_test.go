package pgstore

import (
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/internal/pgtest"
	"github.com/sweep-dev/sweep/results"
)

const secret = "s3cret"

// TestRedactedErrors: a connection string's password appears in no error
// of a failed connection or of a bad connection string, however the
// password is given, nor in Location or the errors of a working Store.
func TestRedactedErrors(t *testing.T) {
	t.Parallel() // it waits for timeouts more than it works
	nowhere := filepath.Join(t.TempDir(), "nosocket")
	for _, tc := range []struct {
		name, dsn string
		want      error // nil: any error
	}{
		{"url-userinfo", "postgres://postgres:" + secret + "@/db?host=" + nowhere, results.ErrUnavailable},
		{"url-query", "postgres://postgres@/db?host=" + nowhere + "&password=" + secret, results.ErrUnavailable},
		{"url-escaped", "postgres://postgres:" + url.QueryEscape(secret+"@/:") + "@/db?host=" + nowhere, results.ErrUnavailable},
		{"key-value", "host=" + nowhere + " user=postgres password=" + secret + " dbname=db", results.ErrUnavailable},
		{"key-value-quoted", "host=" + nowhere + " user=postgres password='" + secret + " x' dbname=db", results.ErrUnavailable},
		{"bad-url", "postgres://postgres:" + secret + "@/db?host=" + nowhere + "&connect_timeout=soon", nil},
		{"bad-port", "postgres://postgres:" + secret + "@localhost:notaport/db", nil},
		{"bad-key-value", "host=" + nowhere + " password=" + secret + " connect_timeout=soon", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Open(t.Context(), tc.dsn, Options{Timeout: 300 * time.Millisecond})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open: %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), "xxxxx") {
				t.Errorf("the error does not name the database, redacted: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Open took %v with a timeout of 300ms", d)
			}
		})
	}

	t.Run("working", func(t *testing.T) {
		srv := pgtest.Shared(t)
		dsn := srv.NewDatabase(t) + "&password=" + secret // trust authentication: never asked for
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword("postgres", secret)
		for _, dsn := range []string{dsn, u.String(), "host=" + srv.SocketDir() + " user=postgres password=" + secret + " dbname=" + strings.TrimPrefix(u.Path, "/")} {
			s := openDSN(t, dsn)
			if strings.Contains(s.Location(), secret) || !strings.Contains(s.Location(), "xxxxx") {
				t.Errorf("Location() = %q", s.Location())
			}
			_, err := s.Sweep(t.Context(), "none")
			if !errors.Is(err, results.ErrNoSweep) || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), s.Location()) {
				t.Errorf("Sweep of no sweep: %v", err)
			}
			ensure(t, s, "g", 1)
			exec(t, conn(t, dsn), `UPDATE sweep_trials SET record = 'garbage'`)
			err = s.Check(t.Context())
			var ce *results.CorruptError
			if !errors.As(err, &ce) || ce.Path != s.Location() || strings.Contains(err.Error(), secret) {
				t.Errorf("Check of a damaged record: %v (path %q)", err, ce.Path)
			}
			exec(t, conn(t, dsn), `DELETE FROM sweep_sweeps`)
		}
	})
}

// TestSecrets: scrub finds the password in every form a message may quote.
func TestSecrets(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:" + secret + "@h/db",
		"postgresql://u:" + secret + "@h/db?sslmode=require",
		"postgres://u@h/db?password=" + secret + "&sslmode=disable",
		"user=u password=" + secret + " host=h",
		"user=u password = '" + secret + "' host=h",
		"postgres://u:" + secret + "@h:bad/db",
	} {
		found := false
		for _, s := range rawSecrets(dsn) {
			found = found || s == secret
		}
		if !found {
			t.Errorf("rawSecrets(%q) = %q, missing %q", dsn, rawSecrets(dsn), secret)
		}
		s := &Store{secrets: secrets(dsn, "")}
		if err := s.scrub(errors.New("failed: " + dsn)); strings.Contains(err.Error(), secret) {
			t.Errorf("scrub leaves the password in %q", err)
		}
	}
}
