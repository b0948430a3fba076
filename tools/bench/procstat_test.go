package bench

import (
	"os"
	"os/exec"
	"testing"
)

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    uint64
		wantErr bool
	}{
		{"plain", "1234 (mcpmesh) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 31 0 0 20 0 9 0 100 2000000 3000 18446744073709551615", 281, false},
		{"spaces and parens in the name", "77 (a ) b (c)) R 1 77 77 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 5 1 1 0", 15, false},
		{"no name", "1234 mcpmesh S 1", 0, true},
		{"too short", "1234 (x) S 1 2 3", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 8 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatTicks([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatTicks = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    uint64
		wantErr bool
	}{
		{"present", "Name:\tmcpmesh\nVmPeak:\t  9000 kB\nVmRSS:\t   20480 kB\nThreads:\t9\n", 20480 * 1024, false},
		{"missing", "Name:\tmcpmesh\n", 0, true},
		{"bad unit", "VmRSS:\t 12 MB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(tt.status))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseVmRSS = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseMachineCPU(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := parseMachineCPU([]byte("cpu  100 5 50 800 20 3 2 0 40 0\ncpu0 1 2 3 4 5 6 7 8\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (machineCPU{busy: 160, total: 980}); got != want {
		t.Fatalf("parseMachineCPU = %+v, want %+v", got, want)
	}
	if f := busyFraction(machineCPU{busy: 10, total: 100}, machineCPU{busy: 60, total: 200}); f != 0.5 {
		t.Fatalf("busyFraction = %v, want 0.5", f)
	}
	if _, err := parseMachineCPU([]byte("intr 1 2 3\n")); err == nil {
		t.Fatal("parseMachineCPU accepted a line that is not the cpu line")
	}
}

// TestOwnProcess reads this test process's counters through the real /proc files.
func TestOwnProcess(t *testing.T) {
	before, err := cpuTime(0)
	if err != nil {
		t.Fatal(err)
	}
	byPID, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if byPID < before {
		t.Fatalf("cpu time by pid %s is below the earlier /proc/self reading %s", byPID, before)
	}
	rss, err := residentBytes(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 {
		t.Fatalf("VmRSS of a running Go test binary is %d bytes, want at least 1 MiB", rss)
	}
	m, err := readMachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	if m.total == 0 || m.busy > m.total {
		t.Fatalf("machine cpu %+v", m)
	}
}

func TestParseStat(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
	got, err := parseStat([]byte("900 (postgres: x (y)) S 812 812 812 0 -1 4194560 5 0 0 0 250 31 40 2 20 0 1 0"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (statFields{ppid: 812, self: 281, children: 42}); got != want {
		t.Fatalf("parseStat = %+v, want %+v", got, want)
	}
	if _, err := parseStat([]byte("900 (x) S 812 812 812 0 -1 0 0 0 0 0 1 2")); err == nil {
		t.Fatal("parseStat accepted a line without cutime and cstime")
	}
}

func TestTreeCPUCountsChildren(t *testing.T) {
	before, err := treeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A child that burns some CPU and is waited for lands in this process's cutime.
	child := exec.Command("sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	after, err := treeCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	childCPU := child.ProcessState.UserTime() + child.ProcessState.SystemTime()
	if after-before < childCPU-2*clockTick {
		t.Fatalf("tree CPU grew by %s while a child used %s", after-before, childCPU)
	}
}
