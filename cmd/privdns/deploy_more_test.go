package main

import (
	"fmt"
	"net/netip"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/privdns/privdns/config"
)

// imageConfigSource is the configuration the Dockerfile puts in the image.
const imageConfigSource = "deploy/container/privdns.yaml"

func checkImageConfig(d *deploySet, p *deployProblems) {
	final, _ := dockerStage(d.dockerfile)
	copied := false
	for _, c := range final["COPY"] {
		copied = copied || slices.Equal(strings.Fields(c), []string{"--from=build", "/src/" + imageConfigSource, deployConfig})
	}
	p.want(copied, "the image has no %s from %s (COPY %v)", deployConfig, imageConfigSource, final["COPY"])
	cfg, err := config.Parse([]byte(d.imageConfig), "yaml", filepath.Join(deployRoot, imageConfigSource))
	if err != nil {
		p.add("%s does not load: %v", imageConfigSource, err)
		return
	}
	on53 := false
	for _, l := range cfg.Server.Listeners {
		host, port, err := splitListenAddress(l.Address)
		on53 = on53 || err == nil && port == 53 && reachable(host)
	}
	p.want(on53, "%s: no listener on port 53 of every address: %+v", imageConfigSource, cfg.Server.Listeners)
	host, port, err := splitListenAddress(cfg.Server.HTTP)
	p.want(err == nil && reachable(host) && port == 9153, "%s: server.http %q is not :9153 on every address (EXPOSE 9153/tcp)", imageConfigSource, cfg.Server.HTTP)
	// Published ports reach the container from the bridge's gateway.
	for _, client := range []string{"172.17.0.1", "127.0.0.1", "10.1.2.3", "192.168.1.10"} {
		in := false
		for _, n := range cfg.Networks {
			for _, prefix := range n.AddressPrefixes {
				in = in || prefix.Contains(netip.MustParseAddr(client))
			}
		}
		p.want(in || cfg.Server.UnknownClients != "refuse", "%s: a client at %s is in no network and refused", imageConfigSource, client)
	}
	for _, public := range []string{"8.8.8.8", "2001:db8::1"} {
		for _, n := range cfg.Networks {
			for _, prefix := range n.AddressPrefixes {
				p.want(!prefix.Contains(netip.MustParseAddr(public)), "%s: network %s holds %s: an open resolver", imageConfigSource, n.Name, public)
			}
		}
	}
}

// dockerignored says whether .dockerignore's patterns leave name out of
// the build context: the last matching pattern wins, "!" keeps, and a
// pattern that matches a folder leaves out everything in it.
func dockerignored(patterns, name string) bool {
	ignored := false
	for _, line := range strings.Split(patterns, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keep := strings.HasPrefix(line, "!")
		pattern := path.Clean(strings.TrimPrefix(strings.TrimPrefix(line, "!"), "/"))
		for p := name; p != "."; p = path.Dir(p) {
			if ok, _ := path.Match(pattern, p); ok {
				ignored = !keep
				break
			}
		}
	}
	return ignored
}

func checkDockerignore(d *deploySet, p *deployProblems) {
	p.want(d.dockerignore != "", "no .dockerignore: the whole repository, .git too, is sent to every build")
	for _, name := range []string{".git/HEAD", "cmd/privdns/privdns", "privdns"} {
		p.want(dockerignored(d.dockerignore, name), ".dockerignore sends %s to the build", name)
	}
	for _, name := range []string{"go.mod", "go.sum", "cmd/privdns/main.go", "config/default.yaml", "resolver/engine.go",
		"zones/load.go", "testdata/example/privdns.yaml", "testdata/example/zones/internal.contoso.com.zone", imageConfigSource} {
		p.want(!dockerignored(d.dockerignore, name), ".dockerignore leaves out %s, which the image needs", name)
	}
}

// deployEnv is the privdns container's environment variable name.
func deployEnv(d *deploySet, name string) map[string]any {
	for _, e := range yamlList(d.container()["env"]) {
		if yamlAt(e, "name") == name {
			return yamlMap(e)
		}
	}
	return nil
}

var (
	goBytes  = regexp.MustCompile(`^(\d+)(B|KiB|MiB|GiB)?$`)
	k8sBytes = regexp.MustCompile(`^(\d+)(Ki|Mi|Gi|K|M|G)?$`)
	byteUnit = map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "K": 1e3, "M": 1e6, "G": 1e9}
)

func parseBytes(re *regexp.Regexp, s string) (int64, bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	return n * byteUnit[m[2]], err == nil
}

func checkMemoryLimit(d *deploySet, p *deployProblems) {
	limitText := fmt.Sprint(yamlAt(d.container(), "resources", "limits", "memory"))
	limit, ok := parseBytes(k8sBytes, limitText)
	if !ok {
		p.add("limits.memory %q is not a quantity such as 256Mi", limitText)
		return
	}
	env := deployEnv(d, "GOMEMLIMIT")
	value, _ := env["value"].(string)
	soft, ok := parseBytes(goBytes, value)
	if !ok {
		// valueFrom limits.memory would be the limit itself: no headroom.
		p.add("GOMEMLIMIT %v is not a value such as 200MiB", env)
		return
	}
	p.want(soft*10 <= limit*9 && soft*2 >= limit, "GOMEMLIMIT %s is %.0f%% of limits.memory %s; want 50–90%%", value, 100*float64(soft)/float64(limit), limitText)
}

// safeSysctls are the sysctls the baseline Pod Security Standard allows.
var safeSysctls = []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}

// restrictedVolumes are the volume types the restricted standard allows.
var restrictedVolumes = []string{"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}

// restrictedProblems checks a pod spec against the "restricted" Pod
// Security Standard (which includes "baseline"), as the namespace's
// pod-security.kubernetes.io/enforce label has the API server do.
func restrictedProblems(spec map[string]any) []string {
	var out []string
	want := func(ok bool, format string, args ...any) {
		if !ok {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	for _, key := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		want(spec[key] != true, "%s: true", key)
	}
	pod := yamlMap(spec["securityContext"])
	for _, sc := range yamlList(pod["sysctls"]) {
		want(slices.Contains(safeSysctls, fmt.Sprint(yamlAt(sc, "name"))), "sysctl %v is not a safe one", yamlAt(sc, "name"))
	}
	for _, v := range yamlList(spec["volumes"]) {
		for key := range yamlMap(v) {
			want(key == "name" || slices.Contains(restrictedVolumes, key), "volume %v is of type %s", yamlAt(v, "name"), key)
		}
	}
	var containers []any
	for _, key := range []string{"initContainers", "containers", "ephemeralContainers"} {
		containers = append(containers, yamlList(spec[key])...)
	}
	want(len(containers) > 0, "no containers")
	for _, c := range containers {
		name := yamlAt(c, "name")
		sc := yamlMap(yamlAt(c, "securityContext"))
		// A container's setting wins over the pod's.
		get := func(key ...any) any {
			if v := yamlAt(sc, key...); v != nil {
				return v
			}
			return yamlAt(pod, key...)
		}
		want(sc["privileged"] != true, "%v: privileged", name)
		want(sc["allowPrivilegeEscalation"] == false, "%v: allowPrivilegeEscalation is not false", name)
		want(get("runAsNonRoot") == true, "%v: runAsNonRoot is not true", name)
		want(get("runAsUser") != 0, "%v: runAsUser 0", name)
		seccomp := get("seccompProfile", "type")
		want(seccomp == "RuntimeDefault" || seccomp == "Localhost", "%v: seccompProfile %v, want RuntimeDefault or Localhost", name, seccomp)
		want(slices.Contains(yamlList(yamlAt(sc, "capabilities", "drop")), any("ALL")), "%v: capabilities.drop lacks ALL", name)
		for _, capability := range yamlList(yamlAt(sc, "capabilities", "add")) {
			want(capability == "NET_BIND_SERVICE", "%v: adds capability %v", name, capability)
		}
		for _, port := range yamlList(yamlAt(c, "ports")) {
			want(yamlAt(port, "hostPort") == nil, "%v: hostPort %v", name, yamlAt(port, "hostPort"))
		}
	}
	return out
}

func checkRestricted(d *deploySet, p *deployProblems) {
	p.want(yamlAt(d.object("Namespace"), "metadata", "labels", "pod-security.kubernetes.io/enforce") == "restricted",
		"the namespace does not enforce the restricted Pod Security Standard")
	pods := map[string]map[string]any{"the Deployment's pods": d.podSpec(), "the smoke test": yamlMap(yamlAt(d.object("Pod"), "spec"))}
	for what, spec := range pods {
		if spec == nil {
			p.add("no %s", what)
			continue
		}
		for _, problem := range restrictedProblems(spec) {
			p.add("%s: %s", what, problem)
		}
	}
}

var digServerRE = regexp.MustCompile(`^@([^.]+)\.([^.]+)\.svc\.cluster\.local$`)

func checkSmokeTest(d *deploySet, p *deployProblems) {
	pod := d.object("Pod")
	p.want(yamlAt(pod, "spec", "restartPolicy") == "Never", "the smoke test restarts: want restartPolicy Never, a one-shot dig")
	var server []string
	for _, arg := range yamlList(yamlAt(pod, "spec", "containers", 0, "command")) {
		if m := digServerRE.FindStringSubmatch(fmt.Sprint(arg)); m != nil {
			server = m[1:]
		}
	}
	svc := d.object("Service")
	want := []string{fmt.Sprint(yamlAt(svc, "metadata", "name")), fmt.Sprint(yamlAt(svc, "metadata", "namespace"))}
	p.want(slices.Equal(server, want), "the smoke test asks %v, not the Service %v", server, want)
	p.want(strings.Contains(d.k8sReadme, "kubectl apply -f deploy/kubernetes/smoke-test.yaml"), "deploy/kubernetes/README.md does not run the smoke test from smoke-test.yaml")
	p.want(!regexp.MustCompile(`kubectl[^\n]* run `).MatchString(d.k8sReadme), "deploy/kubernetes/README.md starts a pod with kubectl run, which the restricted namespace refuses")
}
