package wire

import "encoding/binary"

// TTLOffsets returns the offsets of the TTL fields of the first count
// records of a packed message (answer, then authority), or false when the
// message is shorter than that.
func TTLOffsets(msg []byte, count int) ([]int, bool) {
	off, ok := SkipName(msg, 12)
	if !ok {
		return nil, false
	}
	off += 4 // question type and class
	offs := make([]int, 0, count)
	for range count {
		if off, ok = SkipName(msg, off); !ok || off+10 > len(msg) {
			return nil, false
		}
		offs = append(offs, off+4)
		off += 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
	}
	return offs, off <= len(msg)
}

// SkipName returns the offset just past the (possibly compressed) name at
// off, or false when it runs past the message.
func SkipName(msg []byte, off int) (int, bool) {
	for off < len(msg) {
		l := int(msg[off])
		switch {
		case l&0xC0 == 0xC0:
			return off + 2, off+2 <= len(msg)
		case l == 0:
			return off + 1, true
		}
		off += 1 + l
	}
	return 0, false
}
