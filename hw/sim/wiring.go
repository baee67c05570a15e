package sim

import (
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio"
)

// The World's side of the boards: which are open, and what one board's
// output does to the others' inputs and to its zone.
//
// Lock order: an output's lock, then the World's, then an input's. The
// World never calls into an output while it holds its own lock.

// attach registers b under its node name and connects its witness inputs
// to the outputs they watch, if those are open.
func (w *World) attach(b *Board) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.boards[b.node]; dup {
		return fmt.Errorf("%w: %s is already open in this world", ErrNodeOpen, b.node)
	}
	w.boards[b.node] = b
	for _, in := range b.inputs {
		if o := w.watched(in.spec.Watches); o != nil {
			in.reset(o.pin.Read())
		}
	}
	return nil
}

// detach forgets b: its fans stop counting in its zone, and inputs wired to
// its outputs fall back to their idle level, as they would if its power
// were cut.
func (w *World) detach(b *Board) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.boards[b.node] != b {
		return
	}
	delete(w.boards, b.node)
	now := w.clock.Now()
	for o := range w.running {
		if o.board == b {
			w.fanChanged(b.zone, now, false)
			delete(w.running, o)
		}
	}
	for _, other := range w.boards {
		for _, in := range other.inputs {
			if node, _, ok := cutWatches(in.spec.Watches); ok && node == b.node {
				in.sense(in.idle())
			}
		}
	}
}

// outputChanged tells the world that o's pin is at level now: witness
// inputs wired to it follow, and a fan starts or stops cooling its zone.
// Called with o's lock held, so that changes reach the world in the order
// they happened on the pin.
func (w *World) outputChanged(o *output, level gpio.Level) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := o.board
	if w.boards[b.node] != b {
		return
	}
	if o.fan {
		running := level == o.active()
		if running != w.running[o] {
			w.fanChanged(b.zone, w.clock.Now(), running)
			if running {
				w.running[o] = true
			} else {
				delete(w.running, o)
			}
		}
	}
	id := deviceKey(b.node, o.spec.Name)
	for _, other := range w.boards {
		for _, in := range other.inputs {
			if in.spec.Watches == id {
				in.sense(level)
			}
		}
	}
}

// watched is the open output a witness input is wired to, or nil. Called
// with w.mu held.
func (w *World) watched(watches string) *output {
	node, name, ok := cutWatches(watches)
	if !ok {
		return nil
	}
	return w.findOutput(node, name)
}

// findOutput is node's output of that name on an open board, or nil.
// Called with w.mu held.
func (w *World) findOutput(node, name string) *output {
	b, ok := w.boards[node]
	if !ok {
		return nil
	}
	return b.outputsByName[name]
}

// cutWatches splits an input's Watches, "node/output".
func cutWatches(watches string) (node, output string, ok bool) {
	node, output, ok = strings.Cut(watches, "/")
	return node, output, ok && node != "" && output != ""
}
