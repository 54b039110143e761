//go:build !unix

package main

import "time"

// processCPU is 0 where privdns does not read the process's CPU time: only
// allocation tells a quiet server there.
func processCPU() time.Duration { return 0 }
