package consensus

import (
	"encoding/binary"
	"fmt"
)

// Wire format. Messages travel as a version byte followed by length-prefixed
// fields in a fixed order; integers are varints. The decoder never trusts a
// length it reads: every count is checked against the bytes that remain, so a
// hostile packet cannot make it allocate more than the packet's own size.
const (
	wireVersion = 1

	// MaxMessageSize bounds an encoded message. Larger packets are refused
	// before decoding.
	MaxMessageSize = 4 << 20
	// maxIDLen bounds a node name.
	maxIDLen = 255
	// maxSigLen bounds a signature (Ed25519 needs 64).
	maxSigLen = 128
	// maxEntries bounds a block's entries, and maxVotes a certificate's
	// votes. Counts are checked against the bytes that remain, but one byte
	// of input can be an entry of 24 bytes in memory, two bytes a vote of
	// 40: without these bounds a 4 MB packet made the decoder allocate about
	// 100 MB before any signature was checked.
	maxEntries = 1 << 16
	maxVotes   = 1 << 12
)

func putUint64(b []byte, v uint64) { binary.BigEndian.PutUint64(b, v) }

// uvarintLen is the length of v's minimal encoding. The decoder refuses any
// other, so every message has exactly one encoding.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// encoder appends fields to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)       { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bytes(v []byte) {
	e.uvarint(uint64(len(v)))
	e.b = append(e.b, v...)
}
func (e *encoder) str(v string) {
	e.uvarint(uint64(len(v)))
	e.b = append(e.b, v...)
}

func (e *encoder) block(b *Block) {
	e.uvarint(b.Height)
	e.uvarint(uint64(len(b.Entries)))
	for _, en := range b.Entries {
		e.bytes(en)
	}
}

// decoder reads fields; the first error sticks and later reads return zero
// values, so callers check err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

func (d *decoder) u8() uint8 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != uvarintLen(v) {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 || n != uvarintLen(zigzag(v)) {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int32() int32 {
	v := d.varint()
	if v < -1 || v > 1<<30 {
		d.fail("round %d out of range", v)
		return 0
	}
	return int32(v)
}

// count reads a length and checks that at least min bytes per item remain.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/min) {
		d.fail("count %d exceeds remaining %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(max int) []byte {
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	if n > max {
		d.fail("field of %d bytes exceeds %d", n, max)
		return nil
	}
	v := make([]byte, n)
	copy(v, d.b[:n])
	d.b = d.b[n:]
	return v
}

func (d *decoder) block() Block {
	var b Block
	b.Height = d.uvarint()
	n := d.count(1)
	if n > maxEntries {
		d.fail("%d entries exceed %d", n, maxEntries)
		return b
	}
	if n > 0 {
		b.Entries = make([]Entry, n)
		for i := range b.Entries {
			b.Entries[i] = d.bytes(MaxMessageSize)
		}
	}
	return b
}

// Marshal encodes m for the wire. To is not encoded.
func (m *Message) Marshal() []byte {
	e := encoder{b: make([]byte, 0, 128)}
	e.u8(wireVersion)
	e.u8(uint8(m.Type))
	e.str(string(m.From))
	e.uvarint(m.Height)
	e.varint(int64(m.Round))
	e.varint(int64(m.POLRound))
	e.b = append(e.b, m.BlockHash[:]...)
	if m.Block != nil {
		e.u8(1)
		e.block(m.Block)
	} else {
		e.u8(0)
	}
	if m.Commit != nil {
		e.u8(1)
		e.block(&m.Commit.Block)
		e.varint(int64(m.Commit.Round))
		e.uvarint(uint64(len(m.Commit.Votes)))
		for _, v := range m.Commit.Votes {
			e.str(string(v.From))
			e.bytes(v.Signature)
		}
	} else {
		e.u8(0)
	}
	e.bytes(m.Signature)
	return e.b
}

// Unmarshal decodes a message produced by Marshal. It checks the encoding
// only; signatures and protocol rules are checked by the Node.
func Unmarshal(b []byte) (*Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d byte limit", ErrMalformed, len(b), MaxMessageSize)
	}
	d := decoder{b: b}
	if v := d.u8(); d.err == nil && v != wireVersion {
		return nil, fmt.Errorf("%w: wire version %d, want %d", ErrMalformed, v, wireVersion)
	}
	m := &Message{}
	m.Type = MsgType(d.u8())
	if d.err == nil && !m.Type.Valid() {
		d.fail("unknown message type %d", m.Type)
	}
	m.From = NodeID(d.bytes(maxIDLen))
	m.Height = d.uvarint()
	m.Round = d.int32()
	m.POLRound = d.int32()
	if d.err == nil {
		if len(d.b) < len(m.BlockHash) {
			d.fail("truncated hash")
		} else {
			copy(m.BlockHash[:], d.b)
			d.b = d.b[len(m.BlockHash):]
		}
	}
	switch d.u8() {
	case 0:
	case 1:
		blk := d.block()
		m.Block = &blk
	default:
		d.fail("bad block flag")
	}
	switch d.u8() {
	case 0:
	case 1:
		c := &Commit{Block: d.block()}
		c.Round = d.int32()
		n := d.count(2)
		if n > maxVotes {
			d.fail("%d votes exceed %d", n, maxVotes)
			n = 0
		}
		if n > 0 {
			c.Votes = make([]CommitVote, n)
			for i := range c.Votes {
				c.Votes[i].From = NodeID(d.bytes(maxIDLen))
				c.Votes[i].Signature = d.bytes(maxSigLen)
			}
		}
		m.Commit = c
	default:
		d.fail("bad commit flag")
	}
	m.Signature = d.bytes(maxSigLen)
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// signDomain opens every sign-bytes string, so pact signatures can never be
// mistaken for signatures over anything else.
const signDomain = "pact/consensus/v1"

// SignBytes is what a validator signs for m in the named cluster: the domain,
// the cluster name, the message type, height and round, then the value. A
// signature is therefore bound to one cluster, type, height and round and
// cannot be replayed into another.
func SignBytes(cluster string, m *Message) []byte {
	// A proposal signs its BlockHash, not its block: the node checks that the
	// two match before it verifies, and evidence can then drop the block.
	blockHash := m.BlockHash
	if m.Type == MsgCommit && m.Commit != nil {
		blockHash = m.Commit.Block.Hash()
	}
	var polRound int32
	if m.Type == MsgProposal {
		polRound = m.POLRound
	}
	return voteSignBytes(cluster, m.Type, m.Height, m.Round, polRound, blockHash)
}

func voteSignBytes(cluster string, t MsgType, height uint64, round, polRound int32, blockHash Hash) []byte {
	e := encoder{b: make([]byte, 0, len(signDomain)+len(cluster)+64)}
	e.str(signDomain)
	e.str(cluster)
	e.u8(uint8(t))
	e.uvarint(height)
	e.varint(int64(round))
	e.varint(int64(polRound))
	e.b = append(e.b, blockHash[:]...)
	return e.b
}
