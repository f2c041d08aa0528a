package main

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// writeChart draws each timed plugin's time per request in wasm as a bar
// (the request phase below, the response phase above, the rest of the
// stream on top), with the no-op floor and the 3× target as lines. The
// file's extension (.svg, .png) chooses the format.
func writeChart(path string, r *results) error {
	names := r.timedPlugins()
	var request, response, rest plotter.Values
	var labels []string
	for _, name := range names {
		t, ok := r.times[name]
		if !ok {
			continue
		}
		labels = append(labels, name)
		request = append(request, t.request)
		response = append(response, t.response)
		rest = append(rest, max(0, t.total-t.request-t.response))
	}
	p := plot.New()
	p.Title.Text = "Time per request in wasm, against the no-op floor"
	p.Y.Label.Text = "µs per request"
	p.Y.Min = 0

	width := vg.Points(22)
	req, err := plotter.NewBarChart(request, width)
	if err != nil {
		return err
	}
	resp, err := plotter.NewBarChart(response, width)
	if err != nil {
		return err
	}
	other, err := plotter.NewBarChart(rest, width)
	if err != nil {
		return err
	}
	req.Color = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	resp.Color = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	other.Color = color.RGBA{R: 0xbb, G: 0xbb, B: 0xbb, A: 0xff}
	for _, b := range []*plotter.BarChart{req, resp, other} {
		b.LineStyle.Width = 0
	}
	resp.StackOn(req)
	other.StackOn(resp)
	p.Add(req, resp, other)

	noop := r.times[noopName].total
	floor := level(noop, len(labels), color.Black, nil)
	target := level(maxRatio*noop, len(labels), color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, []vg.Length{vg.Points(4), vg.Points(3)})
	p.Add(floor, target)

	p.Legend.Add("request phase", req)
	p.Legend.Add("response phase", resp)
	p.Legend.Add("upstream and timing", other)
	p.Legend.Add("no-op floor", floor)
	p.Legend.Add("3× the floor (target for the chain)", target)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.Padding = vg.Points(2)
	top := maxRatio * noop
	for i := range labels {
		top = max(top, request[i]+response[i]+rest[i])
	}
	p.Y.Max = top * 1.55 // room for the legend above the bars
	p.NominalX(labels...)
	p.X.Tick.Label.Rotation = 0.5
	p.X.Tick.Label.XAlign = draw.XRight
	return p.Save(vg.Length(50+22*len(labels))*vg.Millimeter, 120*vg.Millimeter, path)
}

// level is a horizontal line at y across n bars.
func level(y float64, n int, c color.Color, dashes []vg.Length) *plotter.Line {
	l, _ := plotter.NewLine(plotter.XYs{{X: -0.5, Y: y}, {X: float64(n) - 0.5, Y: y}})
	l.Color = c
	l.Width = vg.Points(1.2)
	l.Dashes = dashes
	return l
}
