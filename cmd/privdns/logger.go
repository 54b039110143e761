package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/privdns/privdns/config"
)

// newLogger builds the process logger from server.log; override (the
// --log-level flag) wins over the configured level. The level can change
// on reload through the returned LevelVar.
func newLogger(c config.Log, override string, out io.Writer) (*slog.Logger, *slog.LevelVar, error) {
	lv := new(slog.LevelVar)
	name := c.Level
	if override != "" {
		name = override
	}
	if err := setLevel(lv, name); err != nil {
		return nil, nil, err
	}
	opts := &slog.HandlerOptions{Level: lv}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(out, opts)), lv, nil
	}
	return slog.New(slog.NewTextHandler(out, opts)), lv, nil
}

func setLevel(lv *slog.LevelVar, name string) error {
	if name == "" {
		return nil
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(name))); err != nil {
		return fmt.Errorf("log level %q: want debug, info, warn or error", name)
	}
	lv.Set(level)
	return nil
}
