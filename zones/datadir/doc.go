// Package datadir owns server.dataDir, the only state privdns keeps on
// disk: the last data of each transferred zone with its served serial
// (R12), and the journals of registrations (R13). Nothing else writes
// files there.
//
// Zone copies are replaced whole, atomically: written to a temporary file,
// fsynced, renamed over the old copy, and the folder fsynced, so a crash
// leaves either the old copy or the new one. Journals are append-only:
// each record is fsynced before Append returns, a snapshot compacts them,
// and a record torn by a crash mid-write is cut off when the journal is
// next opened, with a log line. A journal whose file or snapshot is
// removed or replaced while it is open appends nothing (ErrMoved) until
// its owner compacts it, which writes both again; a read-only reader
// (ReadJournal) may follow a journal that a server writes.
//
// Sharp edge: durability is only as good as the file system's fsync, and
// only one process may use a dataDir at a time; two privdns processes
// sharing one would interleave journal records. Open does not lock it.
package datadir
