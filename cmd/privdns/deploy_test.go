package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/privdns/privdns/config"
)

// The deployment files (deploy/, Dockerfile) are read by kubectl, systemd
// and docker, never by the Go build. These checks are what notices when
// one drifts from the code: a probe on a port privdns does not serve, a
// configuration the validator refuses, a subPath mount that never reloads.

const (
	deployRoot   = "../.."                     // the repository, from this package
	deployConfig = "/etc/privdns/privdns.yaml" // where every deployment puts the configuration
	deployUID    = 65532                       // distroless's nonroot user
)

// deploySet is every deployment file, parsed. Checks read it; the tests of
// the checks break it first.
type deploySet struct {
	docs         []map[string]any // every document of deploy/kubernetes/*.yaml
	unit         string           // deploy/systemd/privdns.service
	dockerfile   string
	dockerignore string
	imageConfig  string // deploy/container/privdns.yaml, the image's configuration
	k8sReadme    string // deploy/kubernetes/README.md
	scratch      string // where the ConfigMap's keys are written as files, one directory per load
}

// deployProblems collects what a check found wrong.
type deployProblems []string

func (p *deployProblems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func (p *deployProblems) want(ok bool, format string, args ...any) {
	if !ok {
		p.add(format, args...)
	}
}

func loadDeploySet(t *testing.T) *deploySet {
	t.Helper()
	d := &deploySet{scratch: t.TempDir()}
	paths, err := filepath.Glob(filepath.Join(deployRoot, "deploy", "kubernetes", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes (%v)", err)
	}
	for _, path := range paths {
		docs, err := decodeManifests(path)
		if err != nil {
			t.Fatal(err)
		}
		d.docs = append(d.docs, docs...)
	}
	for name, dst := range map[string]*string{
		"deploy/systemd/privdns.service": &d.unit, "Dockerfile": &d.dockerfile, ".dockerignore": &d.dockerignore,
		imageConfigSource: &d.imageConfig, "deploy/kubernetes/README.md": &d.k8sReadme,
	} {
		text, err := os.ReadFile(filepath.Join(deployRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		*dst = string(text)
	}
	return d
}

// decodeManifests reads every YAML document of a file into generic maps,
// as kubectl sees them; empty documents are skipped, as kubectl does.
func decodeManifests(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, len(docs)+1, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// yamlAt walks v by map keys (string) and list indexes (int); nil when a
// step is missing.
func yamlAt(v any, path ...any) any {
	for _, step := range path {
		switch s := step.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[s]
		case int:
			l, _ := v.([]any)
			if s >= len(l) {
				return nil
			}
			v = l[s]
		}
	}
	return v
}

func yamlMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func yamlList(v any) []any         { l, _ := v.([]any); return l }

// object is the first document of a kind; nil when there is none.
func (d *deploySet) object(kind string) map[string]any {
	for _, doc := range d.docs {
		if doc["kind"] == kind {
			return doc
		}
	}
	return nil
}

func (d *deploySet) podSpec() map[string]any {
	return yamlMap(yamlAt(d.object("Deployment"), "spec", "template", "spec"))
}

func (d *deploySet) podLabels() map[string]any {
	return yamlMap(yamlAt(d.object("Deployment"), "spec", "template", "metadata", "labels"))
}

// container is the privdns container: the pod's first.
func (d *deploySet) container() map[string]any { return yamlMap(yamlAt(d.podSpec(), "containers", 0)) }

// shippedConfig loads the ConfigMap's configuration as the pod does: every
// key a file in one directory, so zone file references resolve.
func (d *deploySet) shippedConfig() (*config.Config, error) {
	data := yamlMap(yamlAt(d.object("ConfigMap"), "data"))
	text, ok := data[filepath.Base(deployConfig)].(string)
	if !ok {
		return nil, fmt.Errorf("the ConfigMap has no key %s", filepath.Base(deployConfig))
	}
	dir, err := os.MkdirTemp(d.scratch, "configmap") // fresh: no file left over from an earlier load
	if err != nil {
		return nil, err
	}
	for key, value := range data {
		s, _ := value.(string)
		if err := os.WriteFile(filepath.Join(dir, key), []byte(s), 0o644); err != nil {
			return nil, err
		}
	}
	return config.Parse([]byte(text), "yaml", filepath.Join(dir, filepath.Base(deployConfig)))
}

// httpPort is the port of the shipped configuration's server.http.
func (d *deploySet) httpPort() (int, error) {
	cfg, err := d.shippedConfig()
	if err != nil {
		return 0, err
	}
	_, port, err := splitListenAddress(cfg.Server.HTTP)
	return port, err
}

func splitListenAddress(addr string) (host string, port int, err error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err = strconv.Atoi(p)
	return host, port, err
}

// reachable says whether a pod address listens where other pods and the
// kubelet can reach it: every address, not loopback.
func reachable(host string) bool {
	ip, err := netip.ParseAddr(host)
	return host == "" || err == nil && ip.IsUnspecified()
}

// containerPort finds the container port a probe or Service refers to, by
// name or number, with the given protocol (TCP when unset).
func containerPort(c map[string]any, ref any, proto string) map[string]any {
	for _, p := range yamlList(c["ports"]) {
		got, _ := yamlAt(p, "protocol").(string)
		if got == "" {
			got = "TCP"
		}
		if got == proto && (yamlAt(p, "name") == ref || yamlAt(p, "containerPort") == ref) {
			return yamlMap(p)
		}
	}
	return nil
}

// selects says whether a non-empty label selector matches labels.
func selects(selector, labels map[string]any) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

func checkDocuments(d *deploySet, p *deployProblems) {
	namespace := yamlAt(d.object("Namespace"), "metadata", "name")
	for i, doc := range d.docs {
		for _, key := range [][]any{{"apiVersion"}, {"kind"}, {"metadata", "name"}} {
			s, _ := yamlAt(doc, key...).(string)
			p.want(s != "", "document %d (%v) has no %v", i+1, doc["kind"], key)
		}
		if doc["kind"] != "Namespace" {
			p.want(yamlAt(doc, "metadata", "namespace") == namespace, "document %d (%v) is not in namespace %v", i+1, doc["kind"], namespace)
		}
	}
	for _, kind := range []string{"Namespace", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service"} {
		p.want(d.object(kind) != nil, "no %s", kind)
	}
}

func checkConfig(d *deploySet, p *deployProblems) {
	cfg, err := d.shippedConfig()
	if err != nil {
		p.add("the ConfigMap's configuration does not load: %v", err)
		return
	}
	on53 := false
	for _, l := range cfg.Server.Listeners {
		host, port, err := splitListenAddress(l.Address)
		on53 = on53 || err == nil && port == 53 && reachable(host)
	}
	p.want(on53, "no listener on port 53 of every address: %+v", cfg.Server.Listeners)
	host, _, err := splitListenAddress(cfg.Server.HTTP)
	p.want(err == nil && reachable(host), "server.http %q cannot be reached by the kubelet or Prometheus", cfg.Server.HTTP)
	p.want(slices.Contains(cfg.Upstreams.Servers, "168.63.129.16:53"), "upstreams %v: want Azure's 168.63.129.16:53", cfg.Upstreams.Servers)
	fromFile := false
	for _, z := range cfg.Zones {
		fromFile = fromFile || z.Name == "privatelink.blob.core.windows.net." && filepath.Dir(z.File) == filepath.Dir(cfg.File)
	}
	p.want(fromFile, "privatelink.blob.core.windows.net is not loaded from a file next to privdns.yaml")
}

func checkProbes(d *deploySet, p *deployProblems) {
	port, err := d.httpPort()
	if err != nil {
		p.add("no server.http port: %v", err)
		return
	}
	for _, probe := range []struct{ key, path string }{{"livenessProbe", "/healthz"}, {"readinessProbe", "/readyz"}} {
		get := yamlAt(d.container(), probe.key, "httpGet")
		p.want(yamlAt(get, "path") == probe.path, "%s path %v, want %s", probe.key, yamlAt(get, "path"), probe.path)
		target := containerPort(d.container(), yamlAt(get, "port"), "TCP")
		p.want(yamlAt(target, "containerPort") == port, "%s port %v is not containerPort %d of server.http",
			probe.key, yamlAt(get, "port"), port)
	}
}

func checkDNSPorts(d *deploySet, p *deployProblems) {
	svc := d.object("Service")
	for _, proto := range []string{"UDP", "TCP"} {
		p.want(containerPort(d.container(), 53, proto) != nil, "the container has no port 53/%s", proto)
		var sp map[string]any
		for _, port := range yamlList(yamlAt(svc, "spec", "ports")) {
			if yamlAt(port, "port") == 53 && yamlAt(port, "protocol") == proto {
				sp = yamlMap(port)
			}
		}
		target := sp["targetPort"]
		if target == nil {
			target = 53
		}
		p.want(yamlAt(containerPort(d.container(), target, proto), "containerPort") == 53,
			"Service port 53/%s (targetPort %v) does not reach the container's port 53/%s", proto, target, proto)
	}
	selector := yamlMap(yamlAt(svc, "spec", "selector"))
	p.want(selects(selector, d.podLabels()), "the Service selector %v does not select the pods %v", selector, d.podLabels())
}

func checkMount(d *deploySet, p *deployProblems) {
	dir := filepath.Dir(deployConfig)
	var mount map[string]any
	for _, m := range yamlList(d.container()["volumeMounts"]) {
		if yamlAt(m, "mountPath") == dir {
			mount = yamlMap(m)
		}
	}
	p.want(mount != nil, "nothing is mounted at %s", dir)
	p.want(mount["subPath"] == nil && mount["subPathExpr"] == nil, "the mount at %s uses subPath: ConfigMap updates never reach it", dir)
	var volume any
	for _, v := range yamlList(d.podSpec()["volumes"]) {
		if mount != nil && yamlAt(v, "name") == mount["name"] {
			volume = v
		}
	}
	name := yamlAt(d.object("ConfigMap"), "metadata", "name")
	p.want(yamlAt(volume, "configMap", "name") == name, "%s is not the ConfigMap %v", dir, name)
	args, want := fmt.Sprint(d.container()["args"]), fmt.Sprint([]string{"serve", "--config", deployConfig})
	p.want(args == want, "container args %s, want %s", args, want)
}

func checkSecurity(d *deploySet, p *deployProblems) {
	sc := d.container()["securityContext"]
	for _, w := range []struct {
		key  []any
		want any
	}{
		{[]any{"runAsNonRoot"}, true}, {[]any{"runAsUser"}, deployUID}, {[]any{"runAsGroup"}, deployUID},
		{[]any{"readOnlyRootFilesystem"}, true}, {[]any{"allowPrivilegeEscalation"}, false},
		{[]any{"seccompProfile", "type"}, "RuntimeDefault"},
		{[]any{"capabilities", "drop"}, "[ALL]"}, {[]any{"capabilities", "add"}, "[NET_BIND_SERVICE]"},
	} {
		got := yamlAt(sc, w.key...)
		if l, ok := got.([]any); ok {
			got = fmt.Sprint(l)
		}
		p.want(got == w.want, "securityContext %v = %v, want %v", w.key, got, w.want)
	}
	// no_new_privs (allowPrivilegeEscalation: false) voids file
	// capabilities: port 53 needs the unprivileged-port sysctl.
	start := ""
	for _, sc := range yamlList(yamlAt(d.podSpec(), "securityContext", "sysctls")) {
		if yamlAt(sc, "name") == "net.ipv4.ip_unprivileged_port_start" {
			start = fmt.Sprint(yamlAt(sc, "value"))
		}
	}
	port, err := strconv.Atoi(start)
	p.want(err == nil && port <= 53, "net.ipv4.ip_unprivileged_port_start = %q: a non-root pod cannot bind port 53", start)
}

func checkAvailability(d *deploySet, p *deployProblems) {
	dep, pdb, labels := d.object("Deployment"), d.object("PodDisruptionBudget"), d.podLabels()
	replicas, _ := yamlAt(dep, "spec", "replicas").(int)
	p.want(replicas >= 2, "%d replicas: one pod restarting takes DNS away", replicas)
	p.want(selects(yamlMap(yamlAt(dep, "spec", "selector", "matchLabels")), labels), "the Deployment selector misses its pods")
	p.want(selects(yamlMap(yamlAt(pdb, "spec", "selector", "matchLabels")), labels), "the PodDisruptionBudget does not select the pods %v", labels)
	minAvailable, _ := yamlAt(pdb, "spec", "minAvailable").(int)
	p.want(minAvailable >= 1 && minAvailable < replicas, "minAvailable %d of %d replicas", minAvailable, replicas)
	maxUnavailable, _ := yamlAt(dep, "spec", "strategy", "rollingUpdate", "maxUnavailable").(int)
	p.want(maxUnavailable >= 1 && replicas-maxUnavailable >= minAvailable,
		"maxUnavailable %d of %d replicas goes below minAvailable %d", maxUnavailable, replicas, minAvailable)
	term := yamlAt(d.podSpec(), "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", 0, "podAffinityTerm")
	p.want(yamlAt(term, "topologyKey") == "kubernetes.io/hostname" && selects(yamlMap(yamlAt(term, "labelSelector", "matchLabels")), labels),
		"no anti-affinity spreading the pods over nodes")
}

func checkPrometheus(d *deploySet, p *deployProblems) {
	port, err := d.httpPort()
	p.want(err == nil && port == 9153, "server.http port %d (%v), want 9153", port, err)
	annotations := yamlMap(yamlAt(d.object("Deployment"), "spec", "template", "metadata", "annotations"))
	for key, want := range map[string]string{
		"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(port), "prometheus.io/path": "/metrics",
	} {
		// Annotations must be strings: an unquoted 9153 fails kubectl apply.
		p.want(annotations[key] == want, "pod annotation %s = %#v, want %q", key, annotations[key], want)
	}
}

// unitSection is the last value of every key of one section of a systemd
// unit (the value that counts for a single-valued key).
func unitSection(unit, section string) map[string]string {
	keys := map[string]string{}
	in := false
	for _, line := range strings.Split(strings.ReplaceAll(unit, "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "["):
			in = line == "["+section+"]"
		case in && line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, ";"):
			key, value, _ := strings.Cut(line, "=")
			keys[strings.TrimSpace(key)] = strings.TrimSpace(value)
		}
	}
	return keys
}

func checkUnit(d *deploySet, p *deployProblems) {
	svc := unitSection(d.unit, "Service")
	start := strings.Fields(svc["ExecStart"])
	p.want(len(start) == 4 && filepath.Base(start[0]) == "privdns" && strings.Join(start[1:], " ") == "serve --config "+deployConfig,
		"ExecStart=%s, want privdns serve --config %s", svc["ExecStart"], deployConfig)
	reload := strings.Fields(svc["ExecReload"])
	p.want(len(reload) == 3 && filepath.Base(reload[0]) == "kill" && reload[1] == "-HUP" && reload[2] == "$MAINPID",
		"ExecReload=%s does not send SIGHUP to privdns", svc["ExecReload"])
	for key, want := range map[string]string{
		"AmbientCapabilities": "CAP_NET_BIND_SERVICE", "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "Restart": "on-failure",
	} {
		p.want(svc[key] == want, "%s=%s, want %s", key, svc[key], want)
	}
	p.want(svc["DynamicUser"] == "yes" || svc["User"] != "" && svc["User"] != "root", "the unit runs as root")
}

var setcapRE = regexp.MustCompile(`setcap\s+'?cap_net_bind_service=\+?ep'?\s+(\S+)`)

// dockerStage is the instructions of the Dockerfile's final stage, each
// with its arguments, and every RUN of every stage.
func dockerStage(text string) (final map[string][]string, runs []string) {
	final = map[string][]string{}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n") {
		instr, args, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch instr = strings.ToUpper(instr); {
		case instr == "" || strings.HasPrefix(instr, "#"):
		case instr == "FROM":
			final = map[string][]string{instr: {args}}
		case instr == "RUN":
			runs = append(runs, args)
		default:
			final[instr] = append(final[instr], args)
		}
	}
	return final, runs
}

func checkDockerfile(d *deploySet, p *deployProblems) {
	final, runs := dockerStage(d.dockerfile)
	p.want(strings.HasPrefix(fmt.Sprint(final["FROM"]), "[gcr.io/distroless/static"), "final stage FROM %v, want distroless static", final["FROM"])
	user := fmt.Sprint(final["USER"])
	p.want(user == "[65532]" || user == "[65532:65532]", "USER %s, want %d", user, deployUID)
	exposed := strings.Fields(strings.Join(final["EXPOSE"], " "))
	for _, port := range []string{"53/udp", "53/tcp", "9153/tcp"} {
		p.want(slices.Contains(exposed, port), "EXPOSE %v lacks %s", exposed, port)
	}
	all := strings.Join(runs, "\n")
	p.want(strings.Contains(all, "CGO_ENABLED=0 go build"), "the binary is not built with CGO_ENABLED=0")
	capped := setcapRE.FindStringSubmatch(all)
	var entry, cmd []string
	json.Unmarshal([]byte(strings.Join(final["ENTRYPOINT"], "")), &entry) //nolint:errcheck // a bad one fails below
	json.Unmarshal([]byte(strings.Join(final["CMD"], "")), &cmd)          //nolint:errcheck // a bad one fails below
	copied := false
	for _, c := range final["COPY"] {
		f := strings.Fields(c)
		copied = copied || capped != nil && len(entry) > 0 && len(f) >= 2 && slices.Equal(f[len(f)-2:], []string{capped[1], entry[0]})
	}
	p.want(copied, "the ENTRYPOINT %v is not the binary given cap_net_bind_service by setcap (%v)", entry, capped)
	p.want(fmt.Sprint(cmd) == fmt.Sprint([]string{"serve", "--config", deployConfig}), "CMD %v, want serve --config %s", cmd, deployConfig)
}

// deployChecks are every check of the deployment files, by what they keep true.
var deployChecks = []struct {
	name  string
	check func(*deploySet, *deployProblems)
}{
	{"every document names itself", checkDocuments},
	{"shipped configuration passes the validator", checkConfig},
	{"probes reach the HTTP server", checkProbes},
	{"DNS ports are served and targeted", checkDNSPorts},
	{"configuration is a directory mount", checkMount},
	{"container is locked down", checkSecurity},
	{"survives node drains and rollouts", checkAvailability},
	{"Prometheus scrapes the metrics port", checkPrometheus},
	{"systemd unit serves, reloads and binds 53", checkUnit},
	{"Dockerfile builds a static non-root image", checkDockerfile},
	{"the image's configuration serves a container", checkImageConfig},
	{".dockerignore keeps what the build needs", checkDockerignore},
	{"GOMEMLIMIT leaves headroom under the memory limit", checkMemoryLimit},
	{"pods meet the restricted Pod Security Standard", checkRestricted},
	{"the smoke test asks the Service", checkSmokeTest},
}

func TestDeployFilesAgreeWithTheCode(t *testing.T) {
	d := loadDeploySet(t)
	for _, c := range deployChecks {
		t.Run(c.name, func(t *testing.T) {
			var p deployProblems
			c.check(d, &p)
			for _, problem := range p {
				t.Error(problem)
			}
		})
	}
}

// breakText replaces old, which must be in *s, so a case cannot pass by
// breaking nothing.
func breakText(t *testing.T, s *string, old, new string) {
	t.Helper()
	if !strings.Contains(*s, old) {
		t.Fatalf("%q is not in the file any more: update this case", old)
	}
	*s = strings.Replace(*s, old, new, 1)
}

func TestDeployChecksCatchBrokenFiles(t *testing.T) {
	configText := func(d *deploySet) *string {
		s := yamlMap(yamlAt(d.object("ConfigMap"), "data"))["privdns.yaml"].(string)
		return &s
	}
	setConfig := func(d *deploySet, s *string) { yamlMap(yamlAt(d.object("ConfigMap"), "data"))["privdns.yaml"] = *s }
	editConfig := func(old, new string) func(*testing.T, *deploySet) {
		return func(t *testing.T, d *deploySet) { s := configText(d); breakText(t, s, old, new); setConfig(d, s) }
	}
	security := func(d *deploySet) map[string]any { return yamlMap(d.container()["securityContext"]) }
	tests := []struct {
		name  string
		check func(*deploySet, *deployProblems)
		brk   func(*testing.T, *deploySet)
	}{
		{"a document without a name", checkDocuments, func(t *testing.T, d *deploySet) { delete(yamlMap(d.docs[0]["metadata"]), "name") }},
		{"a Service in the default namespace", checkDocuments, func(t *testing.T, d *deploySet) {
			delete(yamlMap(d.object("Service")["metadata"]), "namespace")
		}},
		{"an unknown configuration key", checkConfig, editConfig("cache:", "cahce:")},
		{"the zone file left out of the ConfigMap", checkConfig, func(t *testing.T, d *deploySet) {
			delete(yamlMap(yamlAt(d.object("ConfigMap"), "data")), "privatelink.blob.core.windows.net.zone")
		}},
		{"DNS on loopback only", checkConfig, editConfig(`address: "0.0.0.0:53"`, `address: "127.0.0.1:53"`)},
		{"HTTP on its loopback default", checkConfig, editConfig(`http: ":9153"`, `http: "127.0.0.1:9153"`)},
		{"server.http moved, probes not", checkProbes, editConfig(`http: ":9153"`, `http: ":8080"`)},
		{"readiness probe on the DNS port", checkProbes, func(t *testing.T, d *deploySet) {
			yamlMap(yamlAt(d.container(), "readinessProbe", "httpGet"))["port"] = "dns-tcp"
		}},
		{"liveness probe on /readyz", checkProbes, func(t *testing.T, d *deploySet) {
			yamlMap(yamlAt(d.container(), "livenessProbe", "httpGet"))["path"] = "/readyz"
		}},
		{"no TCP port 53 in the container", checkDNSPorts, func(t *testing.T, d *deploySet) {
			d.container()["ports"] = slices.DeleteFunc(yamlList(d.container()["ports"]), func(p any) bool { return yamlAt(p, "name") == "dns-tcp" })
		}},
		{"Service targeting the metrics port", checkDNSPorts, func(t *testing.T, d *deploySet) {
			yamlMap(yamlAt(d.object("Service"), "spec", "ports", 0))["targetPort"] = "metrics"
		}},
		{"configuration mounted with subPath", checkMount, func(t *testing.T, d *deploySet) {
			yamlMap(yamlAt(d.container(), "volumeMounts", 0))["subPath"] = "privdns.yaml"
		}},
		{"configuration path not in the mount", checkMount, func(t *testing.T, d *deploySet) {
			d.container()["args"] = []any{"serve", "--config", "/config/privdns.yaml"}
		}},
		{"running as root", checkSecurity, func(t *testing.T, d *deploySet) { security(d)["runAsUser"] = 0 }},
		{"no unprivileged-port sysctl", checkSecurity, func(t *testing.T, d *deploySet) { delete(yamlMap(d.podSpec()["securityContext"]), "sysctls") }},
		{"writable root file system", checkSecurity, func(t *testing.T, d *deploySet) { security(d)["readOnlyRootFilesystem"] = false }},
		{"a capability beyond port 53", checkSecurity, func(t *testing.T, d *deploySet) {
			yamlMap(security(d)["capabilities"])["add"] = []any{"NET_BIND_SERVICE", "NET_ADMIN"}
		}},
		{"one replica", checkAvailability, func(t *testing.T, d *deploySet) { yamlMap(d.object("Deployment")["spec"])["replicas"] = 1 }},
		{"disruption budget for other pods", checkAvailability, func(t *testing.T, d *deploySet) {
			yamlMap(yamlAt(d.object("PodDisruptionBudget"), "spec", "selector"))["matchLabels"] = map[string]any{"app": "other"}
		}},
		{"unquoted Prometheus port", checkPrometheus, func(t *testing.T, d *deploySet) {
			yamlMap(yamlAt(d.object("Deployment"), "spec", "template", "metadata", "annotations"))["prometheus.io/port"] = 9153
		}},
		{"unit without ambient capability", checkUnit, func(t *testing.T, d *deploySet) {
			breakText(t, &d.unit, "AmbientCapabilities=CAP_NET_BIND_SERVICE", "")
		}},
		{"unit reload restarting", checkUnit, func(t *testing.T, d *deploySet) {
			breakText(t, &d.unit, "ExecReload=/bin/kill -HUP $MAINPID", "ExecReload=/bin/systemctl restart privdns")
		}},
		{"image running as root", checkDockerfile, func(t *testing.T, d *deploySet) { breakText(t, &d.dockerfile, "USER 65532:65532", "USER root") }},
		{"cgo build", checkDockerfile, func(t *testing.T, d *deploySet) { breakText(t, &d.dockerfile, "CGO_ENABLED=0", "CGO_ENABLED=1") }},
		{"binary without file capability", checkDockerfile, func(t *testing.T, d *deploySet) {
			breakText(t, &d.dockerfile, "setcap cap_net_bind_service=+ep /out/privdns", "true")
		}},
		{"glibc base image", checkDockerfile, func(t *testing.T, d *deploySet) {
			breakText(t, &d.dockerfile, "gcr.io/distroless/static-debian12:nonroot", "debian:12-slim")
		}},
		{"no UDP exposed", checkDockerfile, func(t *testing.T, d *deploySet) { breakText(t, &d.dockerfile, "EXPOSE 53/udp ", "EXPOSE ") }},
		{"image configuration left out", checkImageConfig, func(t *testing.T, d *deploySet) {
			breakText(t, &d.dockerfile, "COPY --from=build /src/"+imageConfigSource+" "+deployConfig, "")
		}},
		{"image configuration on loopback", checkImageConfig, func(t *testing.T, d *deploySet) {
			breakText(t, &d.imageConfig, `address: "0.0.0.0:53"`, `address: "127.0.0.1:53"`)
		}},
		{"image configuration refusing Docker's bridge", checkImageConfig, func(t *testing.T, d *deploySet) {
			breakText(t, &d.imageConfig, `"172.16.0.0/12", `, "")
		}},
		{".dockerignore leaving out the embedded example", checkDockerignore, func(t *testing.T, d *deploySet) { d.dockerignore += "testdata\n" }},
		{".dockerignore keeping .git", checkDockerignore, func(t *testing.T, d *deploySet) { breakText(t, &d.dockerignore, ".git\n", "") }},
		{"GOMEMLIMIT at the limit", checkMemoryLimit, func(t *testing.T, d *deploySet) { deployEnv(d, "GOMEMLIMIT")["value"] = "256MiB" }},
		{"GOMEMLIMIT from the limit itself", checkMemoryLimit, func(t *testing.T, d *deploySet) {
			env := deployEnv(d, "GOMEMLIMIT")
			delete(env, "value")
			env["valueFrom"] = map[string]any{"resourceFieldRef": map[string]any{"resource": "limits.memory"}}
		}},
		{"privdns on the host's network", checkRestricted, func(t *testing.T, d *deploySet) { d.podSpec()["hostNetwork"] = true }},
		{"smoke test as root", checkRestricted, func(t *testing.T, d *deploySet) {
			spec := yamlMap(d.object("Pod")["spec"])
			delete(yamlMap(spec["securityContext"]), "runAsNonRoot")
			yamlMap(spec["securityContext"])["runAsUser"] = 0
		}},
		{"smoke test without seccomp", checkRestricted, func(t *testing.T, d *deploySet) {
			delete(yamlMap(yamlAt(d.object("Pod"), "spec", "securityContext")), "seccompProfile")
		}},
		{"smoke test keeping capabilities", checkRestricted, func(t *testing.T, d *deploySet) {
			delete(yamlMap(yamlAt(d.object("Pod"), "spec", "containers", 0, "securityContext")), "capabilities")
		}},
		{"smoke test escalating", checkRestricted, func(t *testing.T, d *deploySet) {
			yamlMap(yamlAt(d.object("Pod"), "spec", "containers", 0, "securityContext"))["allowPrivilegeEscalation"] = true
		}},
		{"smoke test asking another Service", checkSmokeTest, func(t *testing.T, d *deploySet) {
			yamlMap(yamlAt(d.object("Pod"), "spec", "containers", 0))["command"] = []any{"dig", "@kube-dns.kube-system.svc.cluster.local", "x"}
		}},
		{"README smoke test with kubectl run", checkSmokeTest, func(t *testing.T, d *deploySet) {
			breakText(t, &d.k8sReadme, "kubectl apply -f deploy/kubernetes/smoke-test.yaml", "kubectl -n privdns run dig --image=alpine -- dig x")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := loadDeploySet(t)
			var before, after deployProblems
			if tc.check(d, &before); len(before) > 0 {
				t.Fatalf("fails before breaking anything: %v", before)
			}
			tc.brk(t, d)
			if tc.check(d, &after); len(after) == 0 {
				t.Error("the check did not notice")
			}
			t.Log(after)
		})
	}
}
