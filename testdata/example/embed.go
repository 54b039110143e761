// Package example holds privdns's example: the configuration, its zones,
// and the fake public internet and on-premises DNS of `privdns demo`,
// embedded so that the demo runs from any folder.
//
// Sharp edge: the go tool leaves folders named testdata out of patterns
// such as ./..., so this package is compiled only as a dependency of
// cmd/privdns, where its tests live; keep code out of it.
package example

import "embed"

// Files are privdns.yaml, public.zone, onprem.zone and zones/, as in this
// folder.
//
//go:embed privdns.yaml public.zone onprem.zone zones
var Files embed.FS
