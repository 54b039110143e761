// Package azure turns what the Azure CLI prints about an Azure Private DNS
// estate (zones, record sets, virtual network links, virtual networks and
// DNS forwarding rulesets, SPEC §7) into a privdns configuration and its
// zone files, so an estate comes over in one command instead of by hand.
//
// Import reads a folder of JSON, in the CLI's flattened shape or ARM's
// shape with "properties", and returns the files to write; Write puts them
// in place through a temporary folder and one rename. Every problem names
// its file and the JSON path to the value, and any problem means nothing is
// written.
//
// Sharp edge: Azure compares resource ids without regard to case and prints
// them in whatever case they were created with (a link's virtualNetwork.id
// often spells the resource group differently from the VNet's own id), so
// every id is looked up lower-cased; never compare ids as written.
package azure
