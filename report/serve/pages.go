package serve

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	htmltemplate "html/template"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/results"
)

//go:embed assets
var assets embed.FS

var pages = htmltemplate.Must(htmltemplate.ParseFS(assets, "assets/pages.tmpl"))

// live is what a page's script (live.js) polls: the URL of its status,
// the version it shows, and how often, in milliseconds.
type live struct {
	Status  string
	Version string
	Every   int64
}

func (s *Server) live(status, version string) live {
	return live{Status: status, Version: version, Every: s.o.Refresh.Milliseconds()}
}

// indexPage is what the index template renders.
type indexPage struct {
	Title   string
	Columns []string
	Rows    []indexRow
	Live    live
}

// indexRow is a sweep's row: report.SweepRow's cells.
type indexRow struct {
	Name   string
	Counts []string
	State  string
}

type errorPage struct {
	Code    int
	Status  string
	Message string
}

// decorate makes a report page (html.Write's) a served page: the server's
// icon and style in its head, the live banner (a link to the index, the
// page's state) at the top of its body, and the script that reloads it at
// the end.
func (s *Server) decorate(page []byte, l live) ([]byte, error) {
	var head, banner, script bytes.Buffer
	if err := pages.ExecuteTemplate(&head, "head", nil); err != nil {
		return nil, err
	}
	if err := pages.ExecuteTemplate(&banner, "banner", nil); err != nil {
		return nil, err
	}
	if err := pages.ExecuteTemplate(&script, "script", l); err != nil {
		return nil, err
	}
	h := bytes.Index(page, []byte("</head>"))
	b := bytes.Index(page, []byte("<body"))
	if b >= 0 {
		b += bytes.IndexByte(page[b:], '>') + 1 // past <body ...>
	}
	e := bytes.LastIndex(page, []byte("</body>"))
	if h < 0 || b <= h || e < b {
		return nil, fmt.Errorf("serve: the report page has no </head>, <body> and </body> in order")
	}
	out := make([]byte, 0, len(page)+head.Len()+banner.Len()+script.Len()+2)
	out = append(out, page[:h]...)
	out = append(out, head.Bytes()...)
	out = append(out, page[h:b]...)
	out = append(out, '\n')
	out = append(out, banner.Bytes()...)
	out = append(out, page[b:e]...)
	out = append(out, script.Bytes()...)
	out = append(out, '\n')
	out = append(out, page[e:]...)
	return out, nil
}

// The Content-Security-Policies of the answers (see the package
// documentation). pagePolicy is the server's pages' and assets': nothing
// inline. reportPolicy adds, for a report page, its inline script and
// style element by their hashes, its style attributes, and data: images.
const (
	policyTail = "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " + policyTail
	dataPolicy = "default-src 'none'; frame-ancestors 'none'"
)

// reportPolicy is the policy of a report page. The hashes are those of the
// inline script and style elements of report/html's pages, which are the
// same in every report: they are taken from a report of an empty sweep,
// the server's own input. A script or style element that a report
// contained beyond these would not run.
var reportPolicy = sync.OnceValue(func() string {
	var b bytes.Buffer
	if err := html.Write(&b, &html.Input{Sweep: &results.Sweep{Name: "empty"}}); err != nil {
		panic("serve: report/html cannot render an empty sweep: " + err.Error())
	}
	scripts, styles := inlineHashes(b.String())
	return "default-src 'none'; script-src 'self'" + scripts +
		"; style-src 'self' 'unsafe-inline'; style-src-elem 'self'" + styles +
		"; style-src-attr 'unsafe-inline'; img-src 'self' data:; " + policyTail
})

var (
	inlineScript = regexp.MustCompile(`(?is)<script(\s[^>]*)?>(.*?)</script>`)
	inlineStyle  = regexp.MustCompile(`(?is)<style(\s[^>]*)?>(.*?)</style>`)
)

// inlineHashes returns the CSP sources (" 'sha256-...'" each) of the
// inline script and style elements of page.
func inlineHashes(page string) (scripts, styles string) {
	hashes := func(re *regexp.Regexp) string {
		var out strings.Builder
		for _, m := range re.FindAllStringSubmatch(page, -1) {
			if strings.Contains(strings.ToLower(m[1]), "src=") {
				continue
			}
			sum := sha256.Sum256([]byte(m[2]))
			out.WriteString(" 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'")
		}
		return out.String()
	}
	return hashes(inlineScript), hashes(inlineStyle)
}

// assetTypes are the content types of the assets, by extension.
var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// serveAsset answers /static/NAME and /favicon.svg (and .ico) from the
// embedded assets, by exact name.
func serveAsset(w http.ResponseWriter, r *http.Request) error {
	var name string
	switch p := r.URL.Path; p {
	case "/static/live.js", "/static/serve.css", "/favicon.svg":
		name = path.Base(p)
	case "/favicon.ico":
		name = "favicon.svg"
	}
	b, err := assets.ReadFile("assets/" + name)
	switch {
	case name == "" || err != nil:
		return errorf(http.StatusNotFound, "no page %s here", r.URL.Path)
	case r.URL.RawQuery != "":
		return errorf(http.StatusBadRequest, "%s takes no query parameter", r.URL.Path)
	}
	sum := sha256.Sum256(b)
	reply(w, r, assetTypes[path.Ext(name)], `"`+base64.RawURLEncoding.EncodeToString(sum[:12])+`"`, b)
	return nil
}
