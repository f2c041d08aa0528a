package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// machine is what the report says about where it ran.
type machine struct {
	cpu      string // model name from /proc/cpuinfo
	cpus     int    // logical processors in /proc/cpuinfo
	memory   string // MemTotal from /proc/meminfo
	kernel   string
	goVer    string // `go version`, the toolchain that built the images
	wazero   string // the module version the host runs on
	wasmOpt  string // `wasm-opt --version`, if present
	node     string // `node --version`, if present
	date     time.Time
	platform string
}

func describeMachine(wasmOpt string) machine {
	m := machine{cpus: 0, date: time.Now().UTC(), platform: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			key, value, _ := strings.Cut(s.Text(), ":")
			switch strings.TrimSpace(key) {
			case "processor":
				m.cpus++
			case "model name":
				if m.cpu == "" {
					m.cpu = strings.TrimSpace(value)
				}
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				m.memory = strconv.Itoa((kb+512*1024)/(1024*1024)) + " GiB"
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	m.goVer = command("go", "version")
	if m.goVer == "" {
		m.goVer = runtime.Version() + " (the benchmark's own runtime)"
	}
	m.node = command("node", "--version")
	if wasmOpt != "" {
		m.wasmOpt = command(wasmOpt, "--version")
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				m.wazero = d.Version
			}
		}
	}
	return m
}

// command runs name with args and returns its first line of output, or ""
// if it fails.
func command(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
