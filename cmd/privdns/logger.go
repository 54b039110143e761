package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/privdns/privdns/config"
)

// newLogger builds the process logger from server.log; override (the
// --log-level flag) wins over the configured level.
func newLogger(c config.Log, override string, out io.Writer) (*slog.Logger, error) {
	name := c.Level
	if override != "" {
		name = override
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(name))); err != nil && name != "" {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", name)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(out, opts)), nil
	}
	return slog.New(slog.NewTextHandler(out, opts)), nil
}
