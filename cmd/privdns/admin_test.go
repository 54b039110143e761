package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/privdns/privdns/resolver/missing"
	"github.com/privdns/privdns/resolver/resolvertest"
)

const adminConfig = `
server:
  listeners:
    - address: "127.0.0.1:0"
  http: "127.0.0.1:0"
  admin: "127.0.0.1:0"
upstreams:
  servers: ["%s"]
  timeout: 1s
networks:
  - name: vnet-bob
    addressPrefixes: ["127.0.1.0/24"]
  - name: vnet-alice
    addressPrefixes: ["127.0.2.0/24"]
zones:
  - name: privatelink.blob.core.windows.net
    records: ["contoso 10 IN A 10.1.0.5"]
    links:
      - { name: bob-link, network: vnet-bob }
      - { name: alice-link, network: vnet-alice, resolutionPolicy: NxDomainRedirect }
`

type adminWorld struct {
	srv    *server
	dns    string
	admin  string
	public *resolvertest.Server
}

func startAdminWorld(t *testing.T) *adminWorld {
	t.Helper()
	public := resolvertest.New(t, resolvertest.MustPublic(
		"core.windows.net. 3600 IN SOA ns1-01.azure-dns.com. azuredns-hostmaster.microsoft.com. 1 3600 300 2419200 300",
		"gone.blob.core.windows.net. 60 IN CNAME gone.privatelink.blob.core.windows.net.",
		"fabrikam.privatelink.blob.core.windows.net. 60 IN A 20.60.2.2",
		"www.example.com. 300 IN A 93.184.215.14",
		"www.example.com. 300 IN AAAA 2001:db8::14",
		"sub.www.example.com. 300 IN A 93.184.215.15",
	))
	srv := serveText(t, "", fmt.Sprintf(adminConfig, public.Addr))
	w := &adminWorld{srv: srv, dns: srv.addrs()[0], admin: srv.adminAddr(), public: public}
	if w.admin == "" {
		t.Fatal("server.admin is not served")
	}
	return w
}

func (w *adminWorld) ask(t *testing.T, src, name string, qtype uint16) *dns.Msg {
	t.Helper()
	return resolvertest.ExchangeFrom(t, "udp", src, w.dns, resolvertest.Query(name, qtype))
}

func adminDo(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestAdminNXDomainsReport(t *testing.T) {
	w := startAdminWorld(t)
	const zone = "privatelink.blob.core.windows.net."
	for range 3 { // ready-packed after the first: still counted
		if m := w.ask(t, "127.0.1.5", "fabrikam."+zone, dns.TypeA); m.Rcode != dns.RcodeNameError {
			t.Fatalf("Default link: %s, want NXDOMAIN", dns.RcodeToString[m.Rcode])
		}
	}
	w.ask(t, "127.0.1.6", "gone.blob.core.windows.net", dns.TypeA) // a public CNAME into the zone: the target counts
	w.ask(t, "127.0.1.6", "Gone.Blob.Core.Windows.Net", dns.TypeA)
	w.ask(t, "127.0.2.5", "fabrikam."+zone, dns.TypeA) // NxDomainRedirect: not counted
	w.ask(t, "127.0.1.5", "contoso."+zone, dns.TypeA)  // an answer: not counted

	code, body := adminDo(t, "GET", "http://"+w.admin+"/nxdomains")
	want := `[{"name":"fabrikam.privatelink.blob.core.windows.net.","count":3,"zone":"privatelink.blob.core.windows.net.","network":"vnet-bob","link":"bob-link"},` +
		`{"name":"gone.privatelink.blob.core.windows.net.","count":2,"zone":"privatelink.blob.core.windows.net.","network":"vnet-bob","link":"bob-link"}]` + "\n"
	if code != 200 || body != want {
		t.Fatalf("GET /nxdomains = %d\n%s\nwant 200\n%s", code, body, want)
	}
	for _, tc := range []struct {
		method, path string
		wantCode     int
		wantBody     string // substring
	}{
		{"GET", "/nxdomains?zone=PrivateLink.blob.core.windows.net&limit=1", 200, `[{"name":"fabrikam.`},
		{"GET", "/nxdomains?zone=unknown.example", 200, "[]\n"},
		{"GET", "/nxdomains?limit=0", 400, "limit"},
		{"GET", "/nxdomains?limit=ten", 400, "limit"},
		{"GET", "/nxdomains?zone=bad..name", 400, "zone"},
		{"POST", "/nxdomains", 405, ""},
		{"GET", "/cache/flush", 405, ""},
		{"GET", "/nope", 404, ""},
	} {
		code, body := adminDo(t, tc.method, "http://"+w.admin+tc.path)
		if code != tc.wantCode || !strings.Contains(body, tc.wantBody) {
			t.Errorf("%s %s = %d %q, want %d with %q", tc.method, tc.path, code, body, tc.wantCode, tc.wantBody)
		}
	}
	if code, _ := adminDo(t, "GET", "http://"+w.srv.httpAddr()+"/nxdomains"); code != 404 {
		t.Errorf("server.http serves /nxdomains: %d", code)
	}
	if code, _ := adminDo(t, "POST", "http://"+w.srv.httpAddr()+"/cache/flush"); code != 404 && code != 405 {
		t.Errorf("server.http serves /cache/flush: %d", code)
	}

	// A reload keeps the counts.
	if err := w.srv.Reload("test"); err != nil {
		t.Fatal(err)
	}
	w.ask(t, "127.0.1.5", "fabrikam."+zone, dns.TypeA)
	_, body = adminDo(t, "GET", "http://"+w.admin+"/nxdomains?limit=1")
	var got []missing.Entry
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 1 || got[0].Count != 4 {
		t.Errorf("after a reload: %s, want fabrikam counted 4 times", body)
	}

	// For people: the table and what would fix each name.
	out, errOut, exit := run(t, "nxdomains", "--admin", w.admin, "--zone", "privatelink.blob.core.windows.net")
	if exit != 0 || !strings.Contains(out, "fabrikam.privatelink.blob.core.windows.net.") ||
		!strings.Contains(out, "set resolutionPolicy: NxDomainRedirect on link bob-link to resolve it publicly") {
		t.Errorf("privdns nxdomains: exit %d\nstdout:\n%s\nstderr:\n%s", exit, out, errOut)
	}
	out, _, exit = run(t, "nxdomains", "--admin", w.admin, "--zone", "unknown.example")
	if exit != 0 || !strings.Contains(out, "no name of zone unknown.example") {
		t.Errorf("privdns nxdomains for an unknown zone: exit %d: %s", exit, out)
	}
}

func TestAdminCacheFlush(t *testing.T) {
	w := startAdminWorld(t)
	hits := func() int64 { return w.public.Hits() }
	warm := func() {
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{"www.example.com", dns.TypeA}, {"www.example.com", dns.TypeAAAA}, {"sub.www.example.com", dns.TypeA}} {
			for _, src := range []string{"127.0.1.5", "127.0.2.5"} {
				w.ask(t, src, q.name, q.qtype)
			}
		}
	}
	warm()
	base := hits()
	warm()
	if hits() != base {
		t.Fatalf("a warm cache asked upstream %d more times", hits()-base)
	}

	code, body := adminDo(t, "POST", "http://"+w.admin+"/cache/flush?name=WWW.example.com&type=a")
	if code != 200 || body != `{"name":"www.example.com.","type":"A","flushed":1}`+"\n" {
		t.Fatalf("flush one name and type = %d %s", code, body)
	}
	warm() // both networks share the route: one upstream question
	if got := hits() - base; got != 1 {
		t.Errorf("after flushing www.example.com A: %d upstream questions, want 1", got)
	}

	base = hits()
	out, errOut, exit := run(t, "cache", "flush", "www.example.com", "--admin", w.admin)
	if exit != 0 || !strings.Contains(out, "flushed 2 cached answers to www.example.com.") {
		t.Errorf("privdns cache flush NAME: exit %d\n%s%s", exit, out, errOut)
	}
	warm()
	if got := hits() - base; got != 2 {
		t.Errorf("after flushing www.example.com: %d upstream questions, want 2 (A and AAAA; the name below kept)", got)
	}

	base = hits()
	out, _, exit = run(t, "cache", "flush", "--admin", w.admin)
	if exit != 0 || !strings.Contains(out, "flushed the whole cache (3 answers)") {
		t.Errorf("privdns cache flush: exit %d: %s", exit, out)
	}
	warm()
	if got := hits() - base; got != 3 {
		t.Errorf("after flushing everything: %d upstream questions, want 3", got)
	}

	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"cache", "flush", "--type", "A", "--admin", w.admin}, "--type needs a NAME"},
		{[]string{"cache", "flush", "bad..name", "--admin", w.admin}, "400 Bad Request: name:"},
		{[]string{"cache", "flush", "www.example.com", "--type", "BOGUS", "--admin", w.admin}, "400 Bad Request: type:"},
		{[]string{"cache", "flush", "--admin", "127.0.0.1:1"}, "cannot reach the admin API at 127.0.0.1:1"},
		{[]string{"nxdomains", "--admin", "127.0.0.1:1"}, "cannot reach the admin API at 127.0.0.1:1"},
	} {
		out, errOut, exit := run(t, tc.args...)
		if exit != 1 || !strings.Contains(errOut, tc.wantErr) || out != "" {
			t.Errorf("privdns %v: exit %d\nstdout %q\nstderr %q\nwant exit 1 and %q on stderr", tc.args, exit, out, errOut, tc.wantErr)
		}
	}
	if code, body := adminDo(t, "POST", "http://"+w.admin+"/cache/flush?type=A"); code != 400 || !strings.Contains(body, "type needs a name") {
		t.Errorf("flush with a type and no name = %d %q", code, body)
	}
}

// Reverse names of private addresses are answered locally; a linked zone
// would win, and server.localZones: false sends them upstream.
func TestLocalZonesAreServedEndToEnd(t *testing.T) {
	w := startAdminWorld(t)
	base := w.public.Hits()
	m := w.ask(t, "127.0.1.5", "5.0.1.10.in-addr.arpa", dns.TypePTR)
	if m.Rcode != dns.RcodeNameError || len(m.Ns) != 1 || m.Authoritative ||
		m.Ns[0].String() != "10.in-addr.arpa.\t10800\tIN\tSOA\t10.in-addr.arpa. nobody.invalid. 1 604800 86400 2419200 10800" {
		t.Errorf("reverse of 10.1.0.5: %v", m)
	}
	if w.public.Hits() != base {
		t.Error("a reverse name of a private address was sent upstream")
	}
	off := serveText(t, "", fmt.Sprintf(strings.Replace(adminConfig, `admin: "127.0.0.1:0"`, "localZones: false", 1), w.public.Addr))
	resolvertest.ExchangeFrom(t, "udp", "127.0.1.5", off.addrs()[0], resolvertest.Query("5.0.1.10.in-addr.arpa", dns.TypePTR))
	if w.public.Hits() != base+1 {
		t.Error("with server.localZones: false the name was not sent upstream")
	}
}
