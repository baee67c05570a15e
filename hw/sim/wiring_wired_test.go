package sim

import (
	"testing"

	"github.com/seed44533760/pact/hw"
)

// A witness input is wired only while the output it watches is open in the
// same World.
func TestBoard_Wired(t *testing.T) {
	w := NewWorld(1, WorldOptions{})
	watcher := hw.Spec{Node: "n1", Inputs: []hw.InputSpec{{Name: "witness", Kind: "witness", Pin: "GPIO22", Watches: "n2/led"}}}
	b1, err := Open(watcher, Options{World: w})
	if err != nil {
		t.Fatal(err)
	}
	defer b1.Close()
	if b1.Wired("witness") {
		t.Error("wired before n2 exists")
	}
	b2, err := Open(hw.Spec{Node: "n2", Outputs: []hw.OutputSpec{{Name: "led", Kind: "led", Pin: "GPIO17"}}}, Options{World: w})
	if err != nil {
		t.Fatal(err)
	}
	if !b1.Wired("witness") || b1.Wired("nothing") {
		t.Error("Wired does not follow the world")
	}
	b2.Close()
	if b1.Wired("witness") {
		t.Error("still wired after n2 closed")
	}
}
