package fleet

import (
	"fmt"
	"io"
	"strings"
)

// WriteSVG plots the request rate per Window over time, as a multiple of
// the server's capacity, for each result (one line each), with the
// capacity (1.0) and the 1.5 bound marked.
func WriteSVG(w io.Writer, results ...*Result) error {
	const width, height, left, bottom, top, right = 900.0, 400.0, 60.0, 40.0, 30.0, 20.0
	n, ymax := 1, 2.0
	for _, r := range results {
		n = max(n, len(r.Rate))
		for _, v := range r.Rate {
			ymax = max(ymax, float64(v)/r.CapacityPerWindow)
		}
	}
	x := func(i int) float64 { return left + (width-left-right)*float64(i)/float64(n) }
	y := func(v float64) float64 { return height - bottom - (height-bottom-top)*v/ymax }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="18">requests sent per %v (by the devices' schedules) over the server's capacity, by time since power-on</text>`+"\n", left, Window)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, y(0), width-right, y(0))
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", left, y(0), left, y(ymax))
	for _, g := range []struct {
		v     float64
		label string
		color string
	}{{1, "capacity", "green"}, {1.5, "1.5x", "orange"}} {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/>`+"\n", left, y(g.v), width-right, y(g.v), g.color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s">%s</text>`+"\n", left-4, y(g.v)+4, g.color, g.label)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%.0fx</text>`+"\n", left-4, y(ymax)+4, ymax)
	for s := 0; s <= n/10; s += max(1, n/100) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%ds</text>`+"\n", x(s*10), height-bottom+16, s)
	}
	colors := []string{"blue", "red", "purple", "gray"}
	for k, r := range results {
		var pts []string
		for i, v := range r.Rate {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(float64(v)/r.CapacityPerWindow)))
		}
		c := colors[k%len(colors)]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1" points="%s"/>`+"\n", c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s">%s: %d/%d done, peak %.2fx</text>`+"\n", width-right-260, top+16*float64(k+1), c, r.Policy, r.Completed, r.Agents, r.Peak)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
