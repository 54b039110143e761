package xfr

// SerialLess reports whether serial a is older than b in RFC 1982 serial
// arithmetic: b is ahead of a by less than 2^31. Two serials exactly 2^31
// apart are neither (RFC 1982 leaves them undefined).
func SerialLess(a, b uint32) bool {
	return a != b && b-a < 1<<31
}
