// Package bindtest runs a real BIND (named) for tests, on a loopback port
// of its own, and watches its log, so tests wait for what BIND says it
// did instead of sleeping. Tests skip when named is not installed.
package bindtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a running named.
type Server struct {
	Addr string // 127.0.0.1:port, UDP and TCP
	Port int
	Dir  string

	mu    sync.Mutex
	lines []string
	subs  []chan string
}

// Config is what named serves: statements (zones, keys) added to the
// configuration, and files written to its folder first.
type Config struct {
	Statements string
	Files      map[string]string
	Port       int // 0: a free one
}

// Named returns the path of named, or skips the test.
func Named(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("named")
	if err != nil {
		for _, p := range []string{"/usr/sbin/named", "/usr/local/sbin/named"} {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		t.Skip("named (Debian bind9) is not installed")
	}
	return path
}

// FreePort returns a loopback port free for both UDP and TCP right now.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free loopback port")
	return 0
}

// Start runs named with cfg until the test ends and waits until it says
// it is running.
func Start(t *testing.T, cfg Config) *Server {
	t.Helper()
	named := Named(t)
	s := &Server{Dir: t.TempDir(), Port: cfg.Port}
	if s.Port == 0 {
		s.Port = FreePort(t)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	for name, content := range cfg.Files {
		if err := os.WriteFile(filepath.Join(s.Dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`options {
  directory "%[1]s";
  pid-file "%[1]s/named.pid";
  session-keyfile "%[1]s/session.key";
  managed-keys-directory "%[1]s";
  listen-on port %[2]d { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify explicit;
  notify-delay 0;
  min-refresh-time 1;
  min-retry-time 1;
};
controls { };
%[3]s
`, s.Dir, s.Port, cfg.Statements)
	confPath := filepath.Join(s.Dir, "named.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, named, "-g", "-4", "-n", "1", "-c", confPath)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	running := s.watch(func(line string) bool { return strings.HasSuffix(line, " running") })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.add(sc.Text())
		}
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		cmd.Wait()
		if t.Failed() {
			t.Logf("named log:\n%s", s.Log())
		}
	})
	select {
	case <-running:
	case <-done:
		t.Fatalf("named stopped before running:\n%s", s.Log())
	case <-time.After(30 * time.Second):
		t.Fatalf("named did not start:\n%s", s.Log())
	}
	return s
}

func (s *Server) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, line)
	for _, c := range s.subs {
		select {
		case c <- line:
		default:
		}
	}
}

// Log is everything named wrote so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// Watch returns a channel that receives the first line named writes from
// now on that holds every one of parts.
func (s *Server) Watch(parts ...string) <-chan string {
	return s.watch(func(line string) bool {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				return false
			}
		}
		return true
	})
}

func (s *Server) watch(match func(string) bool) <-chan string {
	all := make(chan string, 256)
	out := make(chan string, 1)
	s.mu.Lock()
	s.subs = append(s.subs, all)
	s.mu.Unlock()
	go func() {
		for line := range all {
			if match(line) {
				out <- line
				return
			}
		}
	}()
	return out
}

// WaitLine waits for a line from Watch, failing the test after timeout.
func WaitLine(t *testing.T, s *Server, c <-chan string, what string, timeout time.Duration) string {
	t.Helper()
	select {
	case line := <-c:
		return line
	case <-time.After(timeout):
		t.Fatalf("named never logged %s:\n%s", what, s.Log())
		return ""
	}
}

// Query asks named over UDP.
func (s *Server) Query(t *testing.T, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, s.Addr)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	return r
}

// Update runs nsupdate against named with the given commands (one per
// line, "send" added), signed with key ("alg:name:secret") when set.
func (s *Server) Update(t *testing.T, key string, commands ...string) {
	t.Helper()
	nsupdate, err := exec.LookPath("nsupdate")
	if err != nil {
		t.Skip("nsupdate (Debian bind9-dnsutils) is not installed")
	}
	script := fmt.Sprintf("server 127.0.0.1 %d\n%s\nsend\n", s.Port, strings.Join(commands, "\n"))
	args := []string{}
	if key != "" {
		args = append(args, "-y", key)
	}
	cmd := exec.Command(nsupdate, args...)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nsupdate: %v\n%s", err, out)
	}
}

// IXFRZone is a zone file for corp.example with serial 1, the SOA timers
// given ("refresh retry expire minimum"), an apex NS, www at 10.0.1.1 and
// 30 more hosts: big enough that BIND answers a small change by IXFR
// rather than in full (max-ixfr-ratio).
func IXFRZone(timers string) string {
	z := "$TTL 60\n@ IN SOA ns1 hm 1 " + timers + "\n@ IN NS ns1\nns1 IN A 10.0.0.53\nwww IN A 10.0.1.1\n"
	for i := range 30 {
		z += fmt.Sprintf("host-%d IN A 10.0.3.%d\n", i, i)
	}
	return z
}
