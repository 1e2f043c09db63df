package plot

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/sweep-dev/sweep/report/html"
)

// kinds are the figures Write draws, in the report's order, and what
// each shows.
var kinds = []struct{ name, summary string }{
	{"history", "each trial's metric in the order they started, and the best so far"},
	{"slice", "the metric against one searched parameter (--param), a point per trial"},
	{"parallel", "parallel coordinates: a line per trial through its parameters and metric"},
	{"curves", "training loss and train/validation accuracy per epoch of the top trials (--top)"},
	{"weights", "the best net's first-layer weights, a tile per hidden unit"},
	{"confusion", "the best net's confusion matrix on the validation set, with counts"},
	{"importance", "each parameter's share of importance: grid ANOVA or PED-ANOVA"},
	{"timeline", "each trial as a bar from its first claim to its end, by status"},
}

// Kinds are the figures Write draws, in the report's order.
var Kinds = func() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.name
	}
	return out
}()

// Summary says in a line what figure kind shows ("" for an unknown kind).
func Summary(kind string) string {
	for _, k := range kinds {
		if k.name == kind {
			return k.summary
		}
	}
	return ""
}

// Formats are the file formats Write writes, by extension.
var Formats = []string{"png", "svg", "pdf"}

// Errors of the caller's choices, which a CLI reports as bad usage.
var (
	ErrKind   = errors.New("unknown kind of plot")
	ErrFormat = errors.New("unknown image format")
	ErrParam  = errors.New("slice plot")
)

// Defaults of Options.
const (
	DefaultWidth  = 6 * vg.Inch
	DefaultHeight = 4 * vg.Inch
	// DefaultCurvesHeight is the learning curves' height: two panels.
	DefaultCurvesHeight = 6 * vg.Inch
	// DefaultDPI is the resolution of PNG files: print quality.
	DefaultDPI = 200
)

// Options are a figure's settings. The zero value is the defaults.
type Options struct {
	// Param is the parameter of a slice plot: required when the sweep
	// searches more than one.
	Param string
	// Width and Height are the figure's size; 0: DefaultWidth and
	// DefaultHeight (DefaultCurvesHeight for curves).
	Width, Height vg.Length
	// DPI is a PNG's resolution; 0: DefaultDPI.
	DPI int
}

// Write draws figure kind of f into w as format (png, svg or pdf). Its
// note is what a caption should say that the figure cannot (the
// estimator of the importance, a sample drawn instead of every trial).
// It fails when kind or format is unknown (ErrKind, ErrFormat), when a
// slice's parameter is missing or unknown (ErrParam), and when the sweep
// has nothing to draw for kind (no history yet, no net kept, ...), saying
// why.
func Write(w io.Writer, f *html.Figures, kind, format string, o Options) (note string, err error) {
	if !slices.Contains(Formats, format) {
		return "", fmt.Errorf("%w %q: want %s", ErrFormat, format, strings.Join(Formats, ", "))
	}
	var fig *figure
	switch kind {
	case "history":
		fig = history(f)
	case "slice":
		fig, err = slicePlot(f, o.Param)
	case "parallel":
		fig = parallel(f)
	case "curves":
		fig, err = curves(f)
	case "weights":
		fig, err = weights(f)
	case "confusion":
		fig, err = confusion(f)
	case "importance":
		fig, err = importance(f)
	case "timeline":
		fig, err = timeline(f)
	default:
		return "", fmt.Errorf("%w %q: want one of %s", ErrKind, kind, strings.Join(Kinds, ", "))
	}
	if err != nil {
		return "", err
	}
	width, height := o.Width, o.Height
	if width <= 0 {
		width = DefaultWidth
	}
	if height <= 0 {
		height = DefaultHeight
		if kind == "curves" {
			height = DefaultCurvesHeight
		}
	}
	dpi := o.DPI
	if dpi <= 0 {
		dpi = DefaultDPI
	}
	c := newCanvas(format, width, height, dpi)
	fig.render(draw.New(c), format, dpi)
	if _, err := c.WriteTo(w); err != nil {
		return "", err
	}
	return fig.note, nil
}

// newCanvas is a w×h canvas of format, one of Formats.
func newCanvas(format string, w, h vg.Length, dpi int) vg.CanvasWriterTo {
	switch format {
	case "png":
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))}
	case "svg":
		return vgsvg.New(w, h)
	}
	return vgpdf.New(w, h)
}

// Format is the format of a file by its extension: png, svg or pdf, in
// any case.
func Format(path string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	if !slices.Contains(Formats, ext) {
		return "", fmt.Errorf("%w: %q: the file's extension must be one of .%s", ErrFormat, path, strings.Join(Formats, ", ."))
	}
	return ext, nil
}

// units are the lengths ParseLength reads.
var units = []struct {
	suffix string
	length vg.Length
}{{"in", vg.Inch}, {"cm", vg.Centimeter}, {"mm", vg.Millimeter}, {"pt", vg.Points(1)}}

// ParseLength reads a figure's width or height: a positive number with a
// unit, in, cm, mm or pt (6in, 15cm, 432pt), or without one, inches. At
// most 100 inches.
func ParseLength(s string) (vg.Length, error) {
	num, unit := strings.TrimSpace(s), vg.Inch
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, unit = strings.TrimSpace(n), u.length
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	l := vg.Length(v) * unit
	if err != nil || !(v > 0) || l > 100*vg.Inch {
		return 0, fmt.Errorf("bad length %q: want a positive number up to 100in, with a unit: in, cm, mm or pt (6in, 15cm)", s)
	}
	return l, nil
}
