package storage

import (
	"errors"
	"strings"
	"testing"
)

// TestCheck refuses what is neither a file nor a PostgreSQL connection
// string pgx can parse, before anything connects, and never shows the
// password in doing so.
func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		where string
		bad   bool
	}{
		{"sweep.db", false},
		{"/tmp/x/sweep.db", false},
		{"postgres://sweep@db.example.org/sweeps?sslmode=verify-full", false},
		{"postgresql://sweep:S3cretPW@db/sweeps", false},
		{"host=db dbname=sweeps user=sweep password=S3cretPW", false},
		{"postgress://sweep:S3cretPW@db/sweeps", true},                 // a mistyped scheme
		{"postgresql+psycopg://sweep:S3cretPW@db/sweeps", true},        // another tool's
		{"postgres://postgres:pw@S3cretPW@127.0.0.1:1/postgres", true}, // '@' not written %40
		{"postgres://sweep:S3cretPW@db:notaport/sweeps", true},         // pgx refuses it
	} {
		err := Check(tt.where)
		if (err != nil) != tt.bad || err != nil && !errors.Is(err, ErrBadAddress) {
			t.Errorf("Check(%q) = %v, want bad %v", tt.where, err, tt.bad)
		}
		if err != nil && strings.Contains(err.Error(), "S3cretPW") {
			t.Errorf("Check(%q) shows the password: %v", tt.where, err)
		}
		if strings.Contains(Redact(tt.where), "S3cretPW") {
			t.Errorf("Redact(%q) = %q", tt.where, Redact(tt.where))
		}
	}
	for _, dsn := range []string{`host=db password=abc\ S3cretPW dbname=x`, `password='a b S3cretPW' host=db`} {
		if r := Redact(dsn); strings.Contains(r, "S3cretPW") {
			t.Errorf("Redact(%q) = %q", dsn, r)
		}
	}
}
