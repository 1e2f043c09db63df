package html

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"github.com/sweep-dev/sweep/results"
)

// okabeIto is the Okabe–Ito palette, distinguishable with the common
// colour-vision deficiencies: the colours of the top trials' curves.
var okabeIto = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// statusColour is each status' colour (Okabe–Ito), with its marks told
// apart by shape too (statusMark), not by colour alone.
var statusColour = map[results.Status]string{
	results.Done:        "#0072B2",
	results.Pruned:      "#E69F00",
	results.Paused:      "#56B4E9",
	results.Diverged:    "#D55E00",
	results.Failed:      "#CC79A7",
	results.Running:     "#009E73",
	results.Interrupted: "#8C7A00",
	results.Pending:     "#999999",
}

// viridisStops are viridis at 0, 1/8, ..., 1.
var viridisStops = [][3]float64{
	{68, 1, 84}, {71, 44, 122}, {59, 81, 139}, {44, 113, 142}, {33, 144, 141},
	{39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37},
}

// viridis returns the colour of t in [0, 1] (clamped), linearly
// interpolated between the stops.
func viridis(t float64) string {
	if !finite(t) {
		return "#bbbbbb"
	}
	c := Viridis(t)
	return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
}

// Viridis is the colour of t in [0, 1] (clamped) on the viridis map,
// grey when t is not finite: the report's colour scale (bright is good).
func Viridis(t float64) color.RGBA {
	if !finite(t) {
		return hexColour("#bbbbbb")
	}
	t = math.Min(math.Max(t, 0), 1) * float64(len(viridisStops)-1)
	i := min(int(t), len(viridisStops)-2)
	u := t - float64(i)
	a, b := viridisStops[i], viridisStops[i+1]
	return color.RGBA{uint8(int(a[0] + u*(b[0]-a[0]) + 0.5)), uint8(int(a[1] + u*(b[1]-a[1]) + 0.5)), uint8(int(a[2] + u*(b[2]-a[2]) + 0.5)), 255}
}

// OkabeIto is the k-th colour of the Okabe–Ito palette, cycling: the
// colour of the k-th best trial's learning curves.
func OkabeIto(k int) color.RGBA { return hexColour(okabeIto[k%len(okabeIto)]) }

// StatusColour is the colour of the marks of trials of status st.
func StatusColour(st results.Status) color.RGBA { return hexColour(statusColour[st]) }

// Filled reports whether a trial of status st is drawn as a filled
// mark: trained to its end (done, diverged) or failed; the others
// (stopped at a rung, running, ...) are hollow.
func Filled(st results.Status) bool {
	switch st {
	case results.Done, results.Diverged, results.Failed:
		return true
	}
	return false
}

// hexColour parses a "#rrggbb" colour of this file.
func hexColour(s string) color.RGBA {
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil || len(s) != 7 {
		panic("html: bad colour " + s) // the colours are this file's constants
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

// colourBar draws a vertical viridis legend at (x, y), h tall, labelled
// with the values at its ends: lo at the bottom, hi at the top.
func (c *canvas) colourBar(x, y, h float64, lo, hi, title string) {
	const n = 16
	for i := range n {
		t := float64(i) / float64(n-1)
		c.rect(x, y+h-float64(i+1)*h/n, 12, h/n+0.5, "", viridis(t), "")
	}
	c.rect(x, y, 12, h, "outline", "", "")
	c.text(x+16, y+8, "start", "tl", hi)
	c.text(x+16, y+h, "start", "tl", lo)
	c.text(x, y-8, "start", "tl", title)
}
