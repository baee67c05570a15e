package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/seed44533760/pact/consensus"
)

// On-disk layout. Every value is sealed: its payload followed by a CRC-32C
// over the bucket name, the key and the payload. Binding the checksum to
// where the value lives catches a value that turns up under the wrong key as
// well as flipped bits. bbolt checksums only its meta pages, so without this
// a damaged leaf page would be read back as a plausible guard.
var (
	bucketMeta    = []byte("meta")
	bucketGuard   = []byte("guard")
	bucketCommits = []byte("commits")
	bucketState   = []byte("state")
	bucketOutbox  = []byte("outbox")
	bucketFences  = []byte("fences")
	bucketExec    = []byte("executions")

	allBuckets = [][]byte{bucketMeta, bucketGuard, bucketCommits, bucketState, bucketOutbox, bucketFences, bucketExec}

	// addedBuckets arrived after schema 1's first files: Open adds them to a
	// file that lacks them, which is not damage.
	addedBuckets = [][]byte{bucketFences, bucketExec}

	keySchema   = []byte("schema")
	keyCluster  = []byte("cluster")
	keyNode     = []byte("node")
	keyGuard    = []byte("last")
	keySnapshot = []byte("snapshot")
)

// schemaVersion is the layout above. A file with another version is refused
// with ErrSchema rather than guessed at.
const schemaVersion = 1

// guardVersion is the version byte of an encoded SignState.
const guardVersion = 1

const crcLen = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(bucket, key, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, []byte{byte(len(bucket))})
	c = crc32.Update(c, castagnoli, bucket)
	var n [binary.MaxVarintLen64]byte
	c = crc32.Update(c, castagnoli, n[:binary.PutUvarint(n[:], uint64(len(key)))])
	c = crc32.Update(c, castagnoli, key)
	return crc32.Update(c, castagnoli, payload)
}

// seal appends the checksum to payload, which it may reuse.
func seal(bucket, key, payload []byte) []byte {
	return binary.BigEndian.AppendUint32(payload, checksum(bucket, key, payload))
}

// unseal checks a stored value and returns its payload, which aliases value:
// it is valid only inside the transaction that read it.
func unseal(bucket, key, value []byte) ([]byte, error) {
	if len(value) < crcLen {
		return nil, fmt.Errorf("%w: %s: %d-byte value is shorter than its checksum", ErrCorrupt, where(bucket, key), len(value))
	}
	payload := value[:len(value)-crcLen]
	want := binary.BigEndian.Uint32(value[len(value)-crcLen:])
	if got := checksum(bucket, key, payload); got != want {
		return nil, fmt.Errorf("%w: %s: checksum %08x, stored %08x", ErrCorrupt, where(bucket, key), got, want)
	}
	return payload, nil
}

// where names a value for an error message: "commits/1042", "guard/last".
func where(bucket, key []byte) string {
	if len(key) == 8 && (string(bucket) == string(bucketCommits) || string(bucket) == string(bucketOutbox)) {
		return fmt.Sprintf("%s/%d", bucket, binary.BigEndian.Uint64(key))
	}
	return fmt.Sprintf("%s/%q", bucket, key)
}

// u64Key encodes a height or sequence number so keys sort numerically.
func u64Key(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func keyU64(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("%w: %d-byte key where a number belongs", ErrCorrupt, len(k))
	}
	return binary.BigEndian.Uint64(k), nil
}

// SignState encoding, fixed-size and big-endian:
//
//	version(1) height(8) round(4) step(1) blockHash(32) polRound(4)
//	lockedRound(4) lockedHash(32)
//
// A field added to consensus.SignState needs a new version here; a test
// fails when the struct and this encoding drift apart.
const guardLen = 1 + 8 + 4 + 1 + 32 + 4 + 4 + 32

func encodeGuard(s consensus.SignState) []byte {
	b := make([]byte, 0, guardLen+crcLen)
	b = append(b, guardVersion)
	b = binary.BigEndian.AppendUint64(b, s.Height)
	b = binary.BigEndian.AppendUint32(b, uint32(s.Round))
	b = append(b, byte(s.Step))
	b = append(b, s.BlockHash[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(s.POLRound))
	b = binary.BigEndian.AppendUint32(b, uint32(s.LockedRound))
	b = append(b, s.LockedHash[:]...)
	return b
}

func decodeGuard(b []byte) (consensus.SignState, error) {
	var s consensus.SignState
	if len(b) != guardLen {
		return s, fmt.Errorf("%w: guard of %d bytes, want %d", ErrCorrupt, len(b), guardLen)
	}
	if b[0] != guardVersion {
		return s, fmt.Errorf("%w: guard encoding version %d, want %d", ErrCorrupt, b[0], guardVersion)
	}
	s.Height = binary.BigEndian.Uint64(b[1:])
	s.Round = int32(binary.BigEndian.Uint32(b[9:]))
	s.Step = consensus.Step(b[13])
	copy(s.BlockHash[:], b[14:46])
	s.POLRound = int32(binary.BigEndian.Uint32(b[46:]))
	s.LockedRound = int32(binary.BigEndian.Uint32(b[50:]))
	copy(s.LockedHash[:], b[54:86])
	switch {
	case s.Step > consensus.StepPrecommit:
		return s, fmt.Errorf("%w: guard step %d", ErrCorrupt, s.Step)
	case s.Round < 0, s.POLRound < -1, s.LockedRound < -1:
		return s, fmt.Errorf("%w: guard rounds %d/%d/%d out of range", ErrCorrupt, s.Round, s.POLRound, s.LockedRound)
	}
	return s, nil
}

// Commits are stored in consensus's own wire encoding, as the MsgCommit
// message that carries them, so a commit has one codec whether it travels or
// rests, and the decoder's hostile-input checks guard the disk too.
func encodeCommit(c *consensus.Commit) []byte {
	m := consensus.Message{Type: consensus.MsgCommit, Height: c.Block.Height, Round: c.Round, Commit: c}
	return m.Marshal()
}

func decodeCommit(height uint64, b []byte) (*consensus.Commit, error) {
	m, err := consensus.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: commit at h=%d: %w", ErrCorrupt, height, err)
	}
	if m.Type != consensus.MsgCommit || m.Commit == nil || m.Commit.Block.Height != height || m.Height != height {
		return nil, fmt.Errorf("%w: value under h=%d is not the commit of that height", ErrCorrupt, height)
	}
	return m.Commit, nil
}

// Snapshot payload: height(8) then the application's bytes.
func encodeSnapshot(s *Snapshot) []byte {
	b := make([]byte, 0, 8+len(s.Data)+crcLen)
	b = binary.BigEndian.AppendUint64(b, s.Height)
	return append(b, s.Data...)
}

func decodeSnapshot(b []byte) (*Snapshot, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: snapshot of %d bytes", ErrCorrupt, len(b))
	}
	return &Snapshot{Height: binary.BigEndian.Uint64(b), Data: append([]byte(nil), b[8:]...)}, nil
}

// Outbox payload: uvarint topic length, topic, then the message payload.
func encodeOutbound(topic string, payload []byte) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(topic)+len(payload)+crcLen)
	b = binary.AppendUvarint(b, uint64(len(topic)))
	b = append(b, topic...)
	return append(b, payload...)
}

func decodeOutbound(seq uint64, b []byte) (Outbound, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return Outbound{}, fmt.Errorf("%w: outbox message %d: bad topic length", ErrCorrupt, seq)
	}
	b = b[k:]
	return Outbound{Seq: seq, Topic: string(b[:n]), Payload: append([]byte(nil), b[n:]...)}, nil
}
