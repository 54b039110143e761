// Package crashtest kills a child process at chosen points, for the tests
// that prove durability by SIGKILL rather than by trusting fsync: the
// child is the test binary itself, running one test that prints "ready"
// once it has opened its state and "ack N" after each write it would
// acknowledge; Run kills it from outside after a given number of acks.
package crashtest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Run starts the test binary running only the test named test, with env
// added to its environment, and SIGKILLs it once it has printed acks
// lines "ack N" (0: as soon as it prints "ready"), or when stop (if set)
// is true of a line it printed. A line starting with "error" fails t. It
// returns the last N acknowledged, -1 for none.
func Run(t testing.TB, test string, env []string, acks int, stop func(line string) bool) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() }) // a safety net, not a wait
	defer timer.Stop()
	last, seen := -1, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "ready"):
			if acks == 0 {
				cmd.Process.Kill()
			}
		case strings.HasPrefix(line, "ack "):
			last, _ = strconv.Atoi(strings.TrimPrefix(line, "ack "))
			if seen++; seen == acks {
				cmd.Process.Kill()
			}
		case strings.HasPrefix(line, "error"):
			t.Fatalf("child: %s", line)
		case stop != nil && stop(line):
			cmd.Process.Kill()
		}
	}
	cmd.Wait()
	return last
}

// Files is every file under dir with its bytes: what a reader that must
// not write (explain) is checked against, before and after.
func Files(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
