// Command screenshot writes a PNG of an HTML page as headless Chromium
// draws it (the same browser and flags as the browser tests: see package
// browser). make screenshot runs it on the quickstart's report for the
// README's picture.
//
//	go run ./internal/browser/screenshot [-from CSS] [-to CSS] [-width W] [-height H] -o FILE.png PAGE
//
// The picture is W CSS pixels wide (at a device pixel ratio of 1) of PAGE
// (a file, or a file:// or http:// URL), from a little above the first
// element matching -from (or the page's top) down to a little below the
// first element matching -to, or H pixels down.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sweep-dev/sweep/internal/browser"
)

func main() {
	from := flag.String("from", "", "CSS selector of the element the picture starts at (default: the page's top)")
	to := flag.String("to", "", "CSS selector of the element the picture ends with (default: -height pixels down)")
	width := flag.Int("width", browser.ViewportW, "the picture's width, CSS pixels (the browser window's)")
	height := flag.Int("height", browser.ViewportH, "the picture's height, CSS pixels")
	out := flag.String("o", "", "the PNG file to write")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: screenshot [-from CSS] [-to CSS] [-width W] [-height H] -o FILE.png PAGE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *out == "" || *width <= 0 || *height <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := shoot(flag.Arg(0), *from, *to, *width, *height, *out); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

// margin is the room left above -from's element and below -to's, CSS pixels.
const margin = 16

func shoot(pageArg, from, to string, w, h int, out string) error {
	url := pageArg
	if !strings.Contains(url, "://") {
		abs, err := filepath.Abs(url)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return err
		}
		url = "file://" + filepath.ToSlash(abs)
	}
	path, err := browser.Path()
	if err != nil {
		return err
	}
	ctx, stop, err := browser.Launch(path, w, h, nil)
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, browser.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	// y is the page offset of the top or the bottom of sel's element.
	y := func(sel, edge string) (float64, error) {
		q, _ := json.Marshal(sel) // a JavaScript string
		js := fmt.Sprintf(`(function (e) { return e ? e.getBoundingClientRect().%s + window.scrollY : -1; })(document.querySelector(%s))`, edge, q)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](js))
		switch {
		case err != nil:
			return 0, fmt.Errorf("find %s: %w", sel, err)
		case v < 0:
			return 0, fmt.Errorf("%s: no element matches %s", pageArg, sel)
		}
		return v, nil
	}
	top := 0.0
	if from != "" {
		if top, err = y(from, "top"); err != nil {
			return err
		}
		top = max(top-margin, 0)
	}
	height := float64(h)
	if to != "" {
		bottom, err := y(to, "bottom")
		if err != nil {
			return err
		}
		if height = bottom + margin - top; height <= 0 {
			return fmt.Errorf("%s: %s ends above %s", pageArg, to, from)
		}
	}
	png, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			Clip:                  &page.Viewport{X: 0, Y: top, Width: float64(w), Height: height, Scale: 1},
			CaptureBeyondViewport: ptr(true),
			FromSurface:           ptr(true),
		})
		return r.Data, err
	})
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if len(png) == 0 {
		return errors.New("screenshot: the browser returned no image")
	}
	return os.WriteFile(out, png, 0o644)
}

func ptr[T any](v T) *T { return &v }
