package agent

import (
	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/capability"
)

// buildDocument makes this node's capability document from its
// configuration and signs it. Its sequence number continues from the
// committed one, so a changed document (new sensor, new zone) is newer.
func (a *Agent) buildDocument() {
	hw := a.acfg.Hardware
	d := &capability.Document{
		Cluster: a.cluster.Name,
		Node:    a.name,
		Zone:    a.acfg.Zone,
		Constraints: capability.Constraints{
			Power:   string(a.acfg.Constraints.Power),
			MaxDuty: a.acfg.Constraints.MaxDuty,
		},
	}
	// Only what the board actually holds: a sensor that did not answer is
	// not offered to the cluster.
	for _, s := range hw.Sensors {
		if _, err := a.board.Sensor(s.Name); err == nil {
			d.Sensors = append(d.Sensors, capability.Sensor{Name: s.Name, Kind: string(s.Kind), Unit: s.Unit})
		}
	}
	for _, o := range hw.Outputs {
		if _, err := a.board.Output(o.Name); err == nil {
			d.Outputs = append(d.Outputs, capability.Output{Name: o.Name, Kind: string(o.Kind)})
		}
	}
	for _, in := range hw.Inputs {
		if _, err := a.board.Input(in.Name); err == nil {
			d.Inputs = append(d.Inputs, capability.Input{Name: in.Name, Kind: string(in.Kind), Watches: in.Watches})
		}
	}
	committed := a.state.Capabilities[a.name]
	d.Seq = 1
	if committed != nil {
		// Same content as committed: keep its sequence and signature.
		same := *d
		same.Seq = committed.Seq
		same.Sign(a.key)
		if same.Digest() == committed.Digest() {
			a.doc, a.docDirty = committed, false
			return
		}
		d.Seq = committed.Seq + 1
	}
	d.Sign(a.key)
	a.doc, a.docDirty = d, true
}

// advertiseIfChanged submits this node's document when the committed one
// differs (first start, changed hardware, or an advert that lost a race).
// Only validators advertise: a candidate's document waits for admission.
func (a *Agent) advertiseIfChanged() {
	committed := a.state.Capabilities[a.name]
	if committed != nil && committed.Digest() == a.doc.Digest() {
		a.docDirty = false
		return
	}
	if !a.state.ValidatorSet().Has(consensusID(a.name)) {
		return
	}
	if committed != nil && committed.Seq >= a.doc.Seq {
		// Someone's older advert of ours won; rebuild above it.
		a.buildDocument()
		a.publishCapabilities(a.doc)
		if !a.docDirty {
			return // the committed one has our content: it is ours now
		}
	}
	a.docDirty = true
	a.submit(&agreed.Entry{Type: agreed.TypeAdvertise, Doc: a.doc})
}
