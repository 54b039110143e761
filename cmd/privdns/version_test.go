package main

import (
	"runtime"
	"testing"
)

func TestBuildInfoMetric(t *testing.T) {
	srv := serveText(t, "", "server: {http: '', listeners: [{address: '127.0.0.1:0'}]}\nupstreams: {servers: [192.0.2.1]}\n")
	if v := metricValue(t, srv.reg, "privdns_build_info", map[string]string{"version": buildVersion(), "goversion": runtime.Version()}); v != 1 {
		t.Errorf("privdns_build_info = %v, want 1", v)
	}
}
