package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// checkPages verifies the structure of a bbolt file before bbolt maps it.
//
// bbolt trusts its pages. A damaged one makes it panic (recoverable), fault
// on a mapping past the end of a truncated file (recoverable only with
// debug.SetPanicOnFault, and only on the faulting goroutine), loop over a
// corrupt overflow count for billions of pages, or follow a cycle of page
// pointers for ever. Its own Tx.Check does the last two on a goroutine of its
// own. So the store walks the file itself first, with ReadAt and a bound on
// everything: the newest valid meta page, every page reachable from it
// exactly once and inside the file, keys in order, the freelist disjoint
// from the tree, and no page that is neither used nor free. Only a file that
// passes is handed to bbolt.
//
// The layout read here is bbolt's file format version 2, unchanged since
// boltdb, in the machine's byte order (little-endian on every Pi).
func checkPages(r io.ReaderAt, size int64) error {
	m, err := readMeta(r, size)
	if err != nil {
		return err
	}
	if m.pgid < 2 || m.pgid > uint64(size)/uint64(m.pageSize) {
		return fmt.Errorf("truncated: %d bytes hold %d pages, the meta page counts %d", size, uint64(size)/uint64(m.pageSize), m.pgid)
	}
	c := &pageChecker{r: r, ps: m.pageSize, hwm: m.pgid, used: make(map[uint64]bool)}
	if err := c.tree(m.root, nil, nil, 0); err != nil {
		return err
	}
	free := make(map[uint64]bool)
	if m.freelist != noFreelist {
		ids, err := c.freelist(m.freelist)
		if err != nil {
			return err
		}
		for _, id := range ids {
			switch {
			case id < 2 || id >= c.hwm:
				return fmt.Errorf("free page %d outside the file's %d pages", id, c.hwm)
			case c.used[id]:
				return fmt.Errorf("page %d is both in use and free", id)
			case free[id]:
				return fmt.Errorf("page %d freed twice", id)
			}
			free[id] = true
		}
	}
	for id := uint64(2); id < c.hwm; id++ {
		if !c.used[id] && !free[id] {
			return fmt.Errorf("page %d is neither in use nor free", id)
		}
	}
	return nil
}

// bbolt's on-disk constants.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	pageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	elementSize    = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	metaSize       = 64 // magic, version, pageSize, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	metaSumOffset  = 56
	bucketHeader   = 16 // root pgid u64, sequence u64

	flagBranch   = 0x01
	flagLeaf     = 0x02
	flagFreelist = 0x10
	flagBucket   = 0x01 // on a leaf element

	noFreelist = ^uint64(0)
	maxDepth   = 64
)

var le = binary.LittleEndian

type boltMeta struct {
	pageSize       int
	root, freelist uint64
	pgid, txid     uint64
}

// readMeta returns the meta page bbolt will use: the valid one with the
// higher transaction id.
func readMeta(r io.ReaderAt, size int64) (boltMeta, error) {
	parse := func(off int64) (boltMeta, error) {
		var b [pageHeaderSize + metaSize]byte
		if _, err := r.ReadAt(b[:], off); err != nil {
			return boltMeta{}, fmt.Errorf("meta page at %d: %w", off, err)
		}
		p := b[pageHeaderSize:]
		h := fnv.New64a()
		h.Write(p[:metaSumOffset])
		switch {
		case le.Uint32(p) != boltMagic:
			return boltMeta{}, errors.New("not a bbolt file (bad magic)")
		case le.Uint32(p[4:]) != boltVersion:
			return boltMeta{}, fmt.Errorf("bbolt format version %d", le.Uint32(p[4:]))
		case le.Uint64(p[metaSumOffset:]) != h.Sum64():
			return boltMeta{}, errors.New("meta page checksum mismatch")
		}
		m := boltMeta{
			pageSize: int(le.Uint32(p[8:])),
			root:     le.Uint64(p[16:]),
			freelist: le.Uint64(p[32:]),
			pgid:     le.Uint64(p[40:]),
			txid:     le.Uint64(p[48:]),
		}
		if m.pageSize < 512 || m.pageSize > 1<<24 || m.pageSize&(m.pageSize-1) != 0 {
			return boltMeta{}, fmt.Errorf("page size %d", m.pageSize)
		}
		return m, nil
	}
	m0, err0 := parse(0)
	var m1 boltMeta
	err1 := errors.New("no second meta page")
	if err0 == nil {
		m1, err1 = parse(int64(m0.pageSize))
	} else {
		// Like bbolt, look for the second meta page at every page size.
		for ps := int64(1024); ps <= 1<<24 && ps < size; ps <<= 1 {
			if m, err := parse(ps); err == nil && int64(m.pageSize) == ps {
				m1, err1 = m, nil
				break
			}
		}
	}
	switch {
	case err0 != nil && err1 != nil:
		return boltMeta{}, fmt.Errorf("both meta pages invalid: %w; %w", err0, err1)
	case err0 != nil:
		return m1, nil
	case err1 != nil || m0.txid > m1.txid:
		return m0, nil
	}
	return m1, nil
}

type pageChecker struct {
	r    io.ReaderAt
	ps   int
	hwm  uint64
	used map[uint64]bool
}

// page reads page id with its overflow pages and marks them used.
func (c *pageChecker) page(id uint64) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, fmt.Errorf("page %d outside the file's %d pages", id, c.hwm)
	}
	buf := make([]byte, c.ps)
	if _, err := c.r.ReadAt(buf, int64(id)*int64(c.ps)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if got := le.Uint64(buf); got != id {
		return nil, fmt.Errorf("page %d says it is page %d", id, got)
	}
	overflow := uint64(le.Uint32(buf[12:]))
	if overflow >= c.hwm-id {
		return nil, fmt.Errorf("page %d overflows by %d pages past the file's %d", id, overflow, c.hwm)
	}
	for i := id; i <= id+overflow; i++ {
		if c.used[i] {
			return nil, fmt.Errorf("page %d referenced twice", i)
		}
		c.used[i] = true
	}
	if overflow > 0 {
		buf = append(buf, make([]byte, int(overflow)*c.ps)...)
		if _, err := c.r.ReadAt(buf[c.ps:], int64(id+1)*int64(c.ps)); err != nil {
			return nil, fmt.Errorf("page %d overflow: %w", id, err)
		}
	}
	return buf, nil
}

// tree checks the b+tree rooted at page id, whose keys must lie in [lo, hi)
// (nil: unbounded), and every bucket nested in it.
func (c *pageChecker) tree(id uint64, lo, hi []byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, maxDepth)
	}
	p, err := c.page(id)
	if err != nil {
		return err
	}
	switch le.Uint16(p[8:]) {
	case flagBranch:
		return c.branch(id, p, lo, hi, depth)
	case flagLeaf:
		return c.leaf(id, p, lo, hi, depth)
	}
	return fmt.Errorf("page %d: flags %#x where a branch or leaf belongs", id, le.Uint16(p[8:]))
}

// element returns the i-th element header of page p and where its key
// ends, with the key's bounds checked.
func element(id uint64, p []byte, i int) (e, key []byte, end uint64, err error) {
	off := pageHeaderSize + i*elementSize
	if off+elementSize > len(p) {
		return nil, nil, 0, fmt.Errorf("page %d: element %d past the page", id, i)
	}
	e = p[off : off+elementSize]
	var pos, ksize uint64
	if le.Uint16(p[8:]) == flagBranch {
		pos, ksize = uint64(le.Uint32(e)), uint64(le.Uint32(e[4:]))
	} else {
		pos, ksize = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:]))
	}
	start := uint64(off) + pos
	end = start + ksize
	if end > uint64(len(p)) {
		return nil, nil, 0, fmt.Errorf("page %d: key %d past the page", id, i)
	}
	return e, p[start:end], end, nil
}

func inOrder(key, prev, lo, hi []byte, first bool) bool {
	return (lo == nil || bytes.Compare(key, lo) >= 0) &&
		(hi == nil || bytes.Compare(key, hi) < 0) &&
		(first || bytes.Compare(prev, key) < 0)
}

func (c *pageChecker) branch(id uint64, p, lo, hi []byte, depth int) error {
	n := int(le.Uint16(p[10:]))
	if n == 0 {
		return fmt.Errorf("page %d: empty branch", id)
	}
	keys := make([][]byte, n)
	kids := make([]uint64, n)
	for i := range n {
		e, key, _, err := element(id, p, i)
		if err != nil {
			return err
		}
		if !inOrder(key, keys[max(i-1, 0)], lo, hi, i == 0) {
			return fmt.Errorf("page %d: key %d out of order", id, i)
		}
		keys[i], kids[i] = key, le.Uint64(e[8:])
	}
	for i := range n {
		next := hi
		if i+1 < n {
			next = keys[i+1]
		}
		if err := c.tree(kids[i], keys[i], next, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (c *pageChecker) leaf(id uint64, p, lo, hi []byte, depth int) error {
	var prev []byte
	for i := range int(le.Uint16(p[10:])) {
		e, key, end, err := element(id, p, i)
		if err != nil {
			return err
		}
		if !inOrder(key, prev, lo, hi, i == 0) {
			return fmt.Errorf("page %d: key %d out of order", id, i)
		}
		prev = key
		flags := le.Uint32(e)
		vsize := uint64(le.Uint32(e[12:]))
		if end+vsize > uint64(len(p)) {
			return fmt.Errorf("page %d: value %d past the page", id, i)
		}
		value := p[end : end+vsize]
		switch flags {
		case 0:
		case flagBucket:
			if err := c.bucket(id, value, depth); err != nil {
				return err
			}
		default:
			return fmt.Errorf("page %d: element %d flags %#x", id, i, flags)
		}
	}
	return nil
}

// bucket checks a bucket's value: its own tree, or its page inline.
func (c *pageChecker) bucket(id uint64, v []byte, depth int) error {
	if len(v) < bucketHeader {
		return fmt.Errorf("page %d: %d-byte bucket header", id, len(v))
	}
	if root := le.Uint64(v); root != 0 {
		return c.tree(root, nil, nil, depth+1)
	}
	inline := v[bucketHeader:]
	if len(inline) < pageHeaderSize || le.Uint16(inline[8:]) != flagLeaf {
		return fmt.Errorf("page %d: bad inline bucket", id)
	}
	if depth+1 > maxDepth {
		return fmt.Errorf("page %d: buckets nested deeper than %d", id, maxDepth)
	}
	return c.leaf(id, inline, nil, nil, depth+1)
}

// freelist reads the free page ids from page id.
func (c *pageChecker) freelist(id uint64) ([]uint64, error) {
	p, err := c.page(id)
	if err != nil {
		return nil, err
	}
	if le.Uint16(p[8:]) != flagFreelist {
		return nil, fmt.Errorf("freelist page %d: flags %#x", id, le.Uint16(p[8:]))
	}
	body := p[pageHeaderSize:]
	n := uint64(le.Uint16(p[10:]))
	if n == 0xFFFF {
		if len(body) < 8 {
			return nil, fmt.Errorf("freelist page %d: truncated", id)
		}
		n, body = le.Uint64(body), body[8:]
	}
	if n > uint64(len(body))/8 {
		return nil, fmt.Errorf("freelist page %d: %d ids do not fit", id, n)
	}
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = le.Uint64(body[8*i:])
	}
	return ids, nil
}
