package pgstore

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
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
var kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|(?:\\.|[^\s\\])+)`)

// CheckDSN refuses a connection string pgx cannot parse, or a URL whose
// user information holds more than one '@' (pgx would take the password
// to end at the first, and the rest for a host name that messages then
// print): an '@' in a password is written %40. The error names the
// string with its password masked. It connects to nothing.
func CheckDSN(dsn string) error {
	if rest, ok := cutScheme(dsn); ok {
		authority := rest
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			authority = rest[:i]
		}
		if strings.Count(authority, "@") > 1 {
			return fmt.Errorf("connection string %s: more than one '@' before the host: write an '@' of the user name or password as %%40", Redact(dsn))
		}
	}
	if _, err := pgxpool.ParseConfig(dsn); err != nil {
		s := &Store{secrets: rawSecrets(dsn)}
		return s.scrub(fmt.Errorf("connection string %s: %w", Redact(dsn), err))
	}
	return nil
}

// cutScheme returns what follows a postgres:// or postgresql:// URL's
// scheme; ok is false for a string that is not such a URL.
func cutScheme(dsn string) (rest string, ok bool) {
	l := strings.ToLower(dsn)
	for _, p := range []string{"postgres://", "postgresql://"} {
		if strings.HasPrefix(l, p) {
			return dsn[len(p):], true
		}
	}
	return "", false
}

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
	return RedactURL(dsn)
}

// RedactURL returns the URL s, of any scheme, with the password of its
// user information and a password query parameter replaced by "xxxxx"; a
// URL that does not parse loses all of its user information.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		// Keep the scheme, hide everything up to the host.
		i := strings.Index(s, "://") + 3
		if at := strings.LastIndex(s, "@"); i >= 3 && at > i {
			return s[:i] + "xxxxx@" + s[at+1:]
		}
		return kvPassword.ReplaceAllString(s, "${1}xxxxx")
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

// secrets returns the password of a connection string, as pgx parsed it
// (password) and as rawSecrets finds it, in each form a message may
// quote it: what scrub masks.
func secrets(dsn, password string) []string {
	out := rawSecrets(dsn)
	if password != "" {
		out = append(out, password)
	}
	var all []string
	for _, p := range out {
		all = append(all, p, url.QueryEscape(p), url.PathEscape(p), url.UserPassword("", p).String()[1:])
	}
	slices.SortFunc(all, func(a, b string) int { // longest first
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	all = slices.Compact(all)
	return slices.DeleteFunc(all, func(s string) bool { return s == "" || s == "xxxxx" })
}

// urlUserinfo is the user information of a URL, up to its last '@'.
var urlUserinfo = regexp.MustCompile(`(?i)^postgres(?:ql)?://([^/?#]*)@`)

// urlPassword is a password query parameter.
var urlPassword = regexp.MustCompile(`(?i)[?&]password=([^&#]*)`)

// rawSecrets finds the passwords in a connection string, even one that
// does not parse: in a URL's user information and password parameter, and
// in password=... pairs; raw and decoded.
func rawSecrets(dsn string) []string {
	var out []string
	add := func(s string) {
		out = append(out, s)
		if u, err := url.QueryUnescape(s); err == nil {
			out = append(out, u)
		}
		if u, err := url.PathUnescape(s); err == nil {
			out = append(out, u)
		}
	}
	if m := urlUserinfo.FindStringSubmatch(dsn); m != nil {
		if _, pw, ok := strings.Cut(m[1], ":"); ok {
			add(pw)
		}
	}
	for _, m := range urlPassword.FindAllStringSubmatch(dsn, -1) {
		add(m[1])
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		v := m[2]
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(v[1 : len(v)-1])
		}
		add(v)
		// In a URL's query, the pair ends at the next parameter.
		if i := strings.IndexAny(v, "&#"); i > 0 {
			add(v[:i])
		}
	}
	return out
}

// scrub masks the Store's secrets in err's message, keeping what err wraps
// for errors.Is and errors.As.
func (s *Store) scrub(err error) error {
	msg := err.Error()
	masked := msg
	for _, p := range s.secrets {
		masked = strings.ReplaceAll(masked, p, "xxxxx")
	}
	if masked == msg {
		return err
	}
	return &scrubbed{msg: masked, err: err}
}

// scrubbed is an error whose message has its secrets masked.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
