package pgstore

import (
	"net/url"
	"regexp"
	"strings"
)

// IsDSN reports whether s is a PostgreSQL connection string rather than a
// file path: a postgres:// or postgresql:// URL, or a libpq key=value
// string naming a host, database or service ("host=db1 dbname=sweeps").
func IsDSN(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") {
		return true
	}
	return kvDSN.MatchString(l)
}

// kvDSN matches a key=value connection string: one of libpq's usual keys
// at its start.
var kvDSN = regexp.MustCompile(`^(host|hostaddr|dbname|user|port|service|sslmode|password)\s*=`)

// kvPassword matches a password in a key=value string, quoted or not.
var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redact returns the connection string dsn with its password replaced by
// "xxxxx", wherever it is (the URL's user information, a password query
// parameter, a password=... pair), so that it can be printed, logged and
// stored. A string that does not parse is redacted as a key=value string,
// and a URL that does not parse is cut at its user information.
func Redact(dsn string) string {
	l := strings.ToLower(dsn)
	if !strings.HasPrefix(l, "postgres://") && !strings.HasPrefix(l, "postgresql://") {
		return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// Keep the scheme, hide everything up to the host.
		i := strings.Index(dsn, "://") + 3
		if at := strings.LastIndex(dsn, "@"); at > i {
			return dsn[:i] + "xxxxx@" + dsn[at+1:]
		}
		return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
