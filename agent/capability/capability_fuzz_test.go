package capability

import (
	"errors"
	"reflect"
	"testing"
)

// docSeeds are documents as nodes publish them: signed, normalised and
// encoded with Marshal.
func docSeeds() [][]byte {
	signed := sample()
	signed.Sign(key(1))
	bare := &Document{V: Version, Cluster: "greenhouse", Node: "pi-2", Zone: "shed"}
	bare.Sign(key(2))
	return [][]byte{signed.Marshal(), bare.Marshal(), sample().Marshal()}
}

// A capability document arrives from peers (a capability response, an
// advertise entry) and from the retained MQTT topic. Whatever decodes
// re-encodes to a document that decodes to the same value with the same
// digest, and Verify judges it without panicking; a document that verifies
// still verifies after the round trip.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range docSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Unmarshal(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Unmarshal: %v, want ErrMalformed", err)
			}
			return
		}
		verr := d.Verify("greenhouse")
		again, err := Unmarshal(d.Marshal())
		if err != nil {
			t.Fatalf("re-encoded document does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("round trip changed the document:\n got %+v\nwant %+v", again, d)
		}
		if again.Digest() != d.Digest() {
			t.Fatal("round trip changed the digest")
		}
		if err := again.Verify("greenhouse"); (err == nil) != (verr == nil) {
			t.Fatalf("Verify: %v before the round trip, %v after", verr, err)
		}
		_ = d.HasOutput("fan", "relay")
	})
}
