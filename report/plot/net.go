package plot

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sweep-dev/sweep/report/html"
)

// weights: the best net's first-layer weights, a tile per hidden unit.
func weights(f *html.Figures) (*figure, error) {
	wt, err := f.Weights()
	if err != nil {
		return nil, err
	}
	kind := "grey"
	if wt.Channels == 3 {
		kind = "colour"
	}
	fig := &figure{
		title: fmt.Sprintf("First-layer weights of trial %d of %s (%d hidden units)", wt.Trial, f.Name(), len(wt.Tiles)),
		body:  func(c draw.Canvas, r raster) { drawTiles(c, wt, r) },
		note: fmt.Sprintf("The %d hidden units' input weights (columns of W1), each reshaped to the %d×%d %s input image and scaled to its own minimum and maximum, as the coursework's show_net_weights draws them; numbered by unit.",
			len(wt.Tiles), wt.Height, wt.Width, kind),
	}
	if !wt.IsImage {
		fig.note = fmt.Sprintf("The %d hidden units' input weights (columns of W1). The input is not an image: each unit's %d weights fill a %d×%d tile row by row, scaled to their own minimum and maximum.", len(wt.Tiles), wt.D, wt.Height, wt.Width)
	}
	return fig, nil
}

// tileGap is the gap between weight tiles, a fraction of a tile's width.
const tileGap = 0.08

// drawTiles lays wt's tiles on a grid as large as c allows, each with its
// unit's number below it when there is room.
func drawTiles(c draw.Canvas, wt html.Weights, r raster) {
	n := len(wt.Tiles)
	w, h := c.Max.X-c.Min.X, c.Max.Y-c.Min.Y
	aspect := vg.Length(wt.Width) / vg.Length(wt.Height)
	num := style(sans, smallSize, draw.XCenter, draw.YTop)
	lh := num.Height("0") + 2
	var tw vg.Length
	cols := 1
	for k := 1; k <= n; k++ {
		rows := vg.Length((n + k - 1) / k)
		if t := min(w/(vg.Length(k)*(1+tileGap)), (h/rows-lh)/(1+tileGap)*aspect); t > tw {
			tw, cols = t, k
		}
	}
	if tw <= 0 {
		return
	}
	labels := tw >= num.Width(strconv.Itoa(n))+2
	if !labels {
		lh = 0
	}
	th, gap := tw/aspect, tw*tileGap
	rows := (n + cols - 1) / cols
	x0 := c.Min.X + (w-vg.Length(cols)*(tw+gap)+gap)/2
	y0 := c.Max.Y - (h-vg.Length(rows)*(th+gap+lh)+gap)/2
	// Pixels of the tile's image: enough that a viewer's or rasteriser's
	// smoothing does not blur the weights.
	px := 2 * tw.Points()
	if r.format == "png" {
		px = tw.Dots(float64(r.dpi))
	}
	zoom := max(1, int(math.Ceil(px/float64(wt.Width))))
	outline := draw.LineStyle{Color: color.Gray{0xbb}, Width: 0.4}
	for k, img := range wt.Tiles {
		x := x0 + vg.Length(k%cols)*(tw+gap)
		top := y0 - vg.Length(k/cols)*(th+gap+lh)
		rect := vg.Rectangle{Min: vg.Point{X: x, Y: top - th}, Max: vg.Point{X: x + tw, Y: top}}
		c.DrawImage(rect, upscale(img, zoom))
		c.SetLineStyle(outline)
		c.Stroke(rect.Path())
		if labels {
			c.FillText(num, vg.Point{X: x + tw/2, Y: top - th - 1}, strconv.Itoa(k+1))
		}
	}
}

// upscale enlarges img k times by repeating its pixels (nearest
// neighbour): weights stay sharp squares.
func upscale(img image.Image, k int) image.Image {
	if k <= 1 {
		return img
	}
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range b.Dy() * k {
		for x := range b.Dx() * k {
			out.Set(x, y, img.At(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return out
}

// confusion: the best net's confusion matrix on the validation set, a
// cell per (true, predicted) pair coloured by its share of the row, with
// its count.
func confusion(f *html.Figures) (*figure, error) {
	cm, err := f.Confusion()
	if err != nil {
		return nil, err
	}
	p := newPlot()
	rows := slices.Clone(cm.Classes)
	slices.Reverse(rows) // the first label at the top
	setAxes(p, html.CategoryAxis(cm.XTitle, cm.Classes), html.CategoryAxis(cm.YTitle, rows))
	p.Add(cells{cm})
	fig := &figure{
		title: fmt.Sprintf("Confusion matrix of trial %d of %s on the validation set", cm.Trial, f.Name()),
		body: func(c draw.Canvas, _ raster) {
			// Square cells: the data area as wide as it is tall, centred.
			da := p.DataCanvas(c)
			if d := (da.Max.X - da.Min.X) - (da.Max.Y - da.Min.Y); d > 0 {
				c = draw.Crop(c, d/2, -d/2, 0, 0)
			}
			p.Draw(c)
		},
		note: "Rows: the true labels of the validation images; columns: the net's predictions; each cell holds its count, coloured by its fraction of the row.",
	}
	fig.side.bar = &colourBar{title: "fraction of the row", lo: "0", hi: "1"}
	return fig, nil
}

// cells draws a confusion matrix: row i (true label i) at the top-down
// position i.
type cells struct{ cm html.Confusion }

func (cl cells) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	k := len(cl.cm.Counts)
	for i, row := range cl.cm.Counts {
		shares := cl.cm.Shares(i)
		y := float64(k - 1 - i)
		for j, v := range row {
			r := vg.Rectangle{Min: vg.Point{X: trX(float64(j) - 0.5), Y: trY(y - 0.5)}, Max: vg.Point{X: trX(float64(j) + 0.5), Y: trY(y + 0.5)}}
			c.SetColor(html.Viridis(shares[j]))
			c.Fill(r.Path())
			sty := style(sans, min(tickSize, (r.Max.Y-r.Min.Y)*0.45), draw.XCenter, draw.YCenter)
			sty.Color = color.White
			if shares[j] > 0.6 { // the bright end of viridis
				sty.Color = color.Black
			}
			c.FillText(sty, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2}, strconv.Itoa(v))
		}
	}
}
