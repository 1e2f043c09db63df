package html

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"
	"sync"
)

// tile is an image drawn as an inline PNG.
type tile struct {
	Src   template.URL // a data: URI: no request
	W, H  int          // display size, CSS pixels
	Title string
	Index int
	Label string // under the image, for examples
	Extra string // a second line, for examples
}

// imageShape returns (channels, height, width) for a net's input shape:
// (C, H, W) as given, or a square-ish grey tile for flat data of d
// features.
func imageShape(shape []int, d int) (c, h, w int, isImage bool) {
	if len(shape) == 3 && shape[0]*shape[1]*shape[2] == d && (shape[0] == 1 || shape[0] == 3) {
		return shape[0], shape[1], shape[2], true
	}
	switch d {
	case 784:
		return 1, 28, 28, true
	case 3072:
		return 3, 32, 32, true
	}
	side := int(math.Ceil(math.Sqrt(float64(d))))
	return 1, side, side, false
}

// tileBuffers lets the PNG encoder of the weight tiles reuse its zlib
// writer and buffers: a new one per tile made a page's tiles most of its
// render time. The bytes written are the same.
var tileBuffers = &tilePool{}

type tilePool struct{ p sync.Pool }

func (t *tilePool) Get() *png.EncoderBuffer {
	b, _ := t.p.Get().(*png.EncoderBuffer)
	return b
}

func (t *tilePool) Put(b *png.EncoderBuffer) { t.p.Put(b) }

// pngTile renders values as tileImage does and returns a data: URI.
func pngTile(vals []float32, c, h, w int) template.URL {
	img := tileImage(vals, c, h, w)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: tileBuffers}
	if err := enc.Encode(&buf, img); err != nil {
		panic(err) // encoding to memory does not fail
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// tileImage renders values (one image: channel-major C×H×W, or fewer
// values than the tile, padded) normalised to their own min–max, as the
// coursework's visualize_grid does: grey for one channel, RGB for three.
func tileImage(vals []float32, c, h, w int) image.Image {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if x := float64(v); finite(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	scale := 0.0
	if hi > lo {
		scale = 255 / (hi - lo)
	}
	px := func(k int) uint8 {
		if k >= len(vals) || !finite(float64(vals[k])) {
			return 0
		}
		return uint8(math.Round((float64(vals[k]) - lo) * scale))
	}
	var img image.Image
	if c == 3 {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetNRGBA(x, y, color.NRGBA{px(y*w + x), px(h*w + y*w + x), px(2*h*w + y*w + x), 255})
			}
		}
		img = m
	} else {
		m := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetGray(x, y, color.Gray{px(y*w + x)})
			}
		}
		img = m
	}
	return img
}

// netSection is the best net's view, ready for the page.
type netSection struct {
	Trial        int
	Tiles        []tile
	TileNote     string
	Confusion    template.HTML
	Examples     []tile
	Missing      []string
	Note         string
	ImageCaption string
}

// netSection draws the weights, the confusion matrix and the examples.
func (s *study) netSection() *netSection {
	n := s.in.Net
	if n == nil {
		return nil
	}
	ns := &netSection{Trial: n.Trial, Note: n.Note}
	d := n.D
	switch {
	case !n.hasWeights():
		ns.Missing = append(ns.Missing, "the first layer's weights (not kept for this trial)")
	default:
		c, h, w, isImage := imageShape(n.Shape, d)
		zoom := max(1, 56/max(h, w))
		col := make([]float32, d)
		for j := range n.H {
			ns.Tiles = append(ns.Tiles, tile{Src: pngTile(n.unit(j, col), c, h, w), W: w * zoom, H: h * zoom, Index: j, Title: "hidden unit " + strconv.Itoa(j+1)})
		}
		kind := "grey"
		if c == 3 {
			kind = "colour (channels R, G, B)"
		}
		ns.ImageCaption = fmt.Sprintf("The %d hidden units' input weights (columns of W1, %d×%d), each reshaped to the %d×%d %s input image and scaled to its own minimum and maximum, as the coursework's show_net_weights draws them.", n.H, n.D, n.H, h, w, kind)
		if !isImage {
			ns.ImageCaption = fmt.Sprintf("The %d hidden units' input weights (columns of W1, %d×%d). The input is not an image (shape %v): each unit's %d weights fill a %d×%d tile row by row, scaled to their own minimum and maximum.", n.H, n.D, n.H, n.Shape, d, h, w)
		}
	}
	if n.Confusion == nil {
		ns.Missing = append(ns.Missing, "the confusion matrix on the validation set (not computed)")
	} else {
		ns.Confusion = confusion(n.Confusion, n.Classes)
	}
	if len(n.Misclassified) == 0 {
		if n.Confusion == nil {
			ns.Missing = append(ns.Missing, "misclassified validation images (not computed)")
		}
	} else {
		c, h, w, _ := imageShape(n.Shape, len(n.Misclassified[0].Pixels))
		zoom := max(1, 84/max(h, w))
		for _, e := range n.Misclassified {
			ns.Examples = append(ns.Examples, tile{Src: pngTile(e.Pixels, c, h, w), W: w * zoom, H: h * zoom, Index: e.Index,
				Title: fmt.Sprintf("validation image %d", e.Index), Label: "true: " + className(n.Classes, e.True), Extra: "predicted: " + className(n.Classes, e.Predicted)})
		}
	}
	return ns
}

// hasWeights reports whether n holds its first layer's weights.
func (n *NetView) hasWeights() bool { return len(n.W1) > 0 && n.D*n.H == len(n.W1) && n.H > 0 }

// unit returns hidden unit j's input weights (column j of W1) in col,
// which has room for D of them.
func (n *NetView) unit(j int, col []float32) []float32 {
	for i := range n.D {
		col[i] = n.W1[i*n.H+j]
	}
	return col
}

func className(classes []string, k int) string {
	if k >= 0 && k < len(classes) {
		return classes[k]
	}
	return "class " + strconv.Itoa(k)
}

// rowShares are the counts of a row of a confusion matrix as fractions
// of the row's total (zeros for an empty row).
func rowShares(row []int) []float64 {
	total := 0
	for _, v := range row {
		total += v
	}
	out := make([]float64, len(row))
	for j, v := range row {
		if total > 0 {
			out[j] = float64(v) / float64(total)
		}
	}
	return out
}

// confusion draws a confusion matrix: rows true labels, columns predicted,
// cells coloured by the row's fraction, with their counts.
func confusion(m [][]int, classes []string) template.HTML {
	k := len(m)
	cell := math.Max(28, math.Min(44, 440/float64(max(k, 1))))
	left, top := 130.0, 20.0
	w := left + cell*float64(k) + 150
	h := top + cell*float64(k) + 100
	c := newCanvas("confusion", w, h, "confusion matrix on the validation set")
	for i, row := range m {
		shares := rowShares(row)
		for j, v := range row {
			t := shares[j]
			x, y := left+float64(j)*cell, top+float64(i)*cell
			c.rect(x, y, cell, cell, "cm", viridis(t), fmt.Sprintf("true %s, predicted %s: %d (%.0f%% of the row)", className(classes, i), className(classes, j), v, 100*t))
			class := "cmv"
			if t > 0.6 {
				class = "cmv dark"
			}
			c.text(x+cell/2, y+cell/2+4, "middle", class, strconv.Itoa(v))
		}
		c.text(left-6, top+float64(i)*cell+cell/2+4, "end", "tl", className(classes, i))
	}
	for j := range k {
		x := left + float64(j)*cell + cell/2
		c.printf(`<text transform="translate(`, f(x-3), ",", f(top+cell*float64(k)+8), `) rotate(45)" class="tl">`, esc(className(classes, j)), "</text>")
	}
	c.text(left+cell*float64(k)/2, h-8, "middle", "at", predictedTitle)
	c.vtext(16, top+cell*float64(k)/2, "at", trueTitle)
	c.colourBar(left+cell*float64(k)+30, top+30, 160, "0", "1", "fraction of the row")
	return c.done()
}
