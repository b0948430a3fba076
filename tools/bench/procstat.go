package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat: sysconf(_SC_CLK_TCK),
// which is 100 on every Linux the mesh runs on.
const clockTick = 10 * time.Millisecond

// cpuTime returns the user plus system CPU time that process pid has used so far.
// pid 0 means this process.
func cpuTime(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	ticks, err := parseStatTicks(b)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return time.Duration(ticks) * clockTick, nil
}

// parseStatTicks returns utime+stime (fields 14 and 15) of a /proc/PID/stat line.
func parseStatTicks(stat []byte) (uint64, error) {
	f, err := parseStat(stat)
	return f.self, err
}

// statFields are the fields of /proc/PID/stat that CPU accounting needs.
type statFields struct {
	ppid     int
	self     uint64 // utime + stime, in clock ticks
	children uint64 // cutime + cstime: children that have exited and been waited for
}

// parseStat reads ppid (field 4), utime, stime, cutime and cstime (fields 14 to 17) of
// a /proc/PID/stat line. The command name (field 2) is in parentheses and may hold
// spaces and parentheses, so fields are counted from the last ')'.
func parseStat(stat []byte) (statFields, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return statFields{}, errors.New("no command name")
	}
	// After ')' come field 3 (state) onwards; utime is field 14, i.e. index 11 here.
	fields := bytes.Fields(stat[end+1:])
	if len(fields) < 15 {
		return statFields{}, fmt.Errorf("%d fields after the command name, want at least 15", len(fields))
	}
	var v [5]uint64
	for i, idx := range []int{1, 11, 12, 13, 14} {
		n, err := strconv.ParseUint(string(fields[idx]), 10, 64)
		if err != nil {
			return statFields{}, fmt.Errorf("field %d: %w", idx+3, err)
		}
		v[i] = n
	}
	return statFields{ppid: int(v[0]), self: v[1] + v[2], children: v[3] + v[4]}, nil
}

// treeCPU returns the CPU time used so far by process pid and its direct children: its
// own time, that of its children that have exited (cutime+cstime), and that of the
// children still running. Between two readings the difference counts every child's
// time once, including children that exited in between. It fits a PostgreSQL
// postmaster, whose backends are its children.
func treeCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	root, err := parseStat(b)
	if err != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	ticks := root.self + root.children
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile: counted in the parent's cutime next time
		}
		f, err := parseStat(b)
		if err == nil && f.ppid == pid {
			ticks += f.self
		}
	}
	return time.Duration(ticks) * clockTick, nil
}

// residentBytes returns the resident set size (VmRSS) of process pid.
func residentBytes(pid int) (uint64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read rss: %w", err)
	}
	rss, err := parseVmRSS(b)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return rss, nil
}

// parseVmRSS finds the "VmRSS:  1234 kB" line of /proc/PID/status.
func parseVmRSS(status []byte) (uint64, error) {
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		kb, err := strconv.ParseUint(string(fields[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmRSS line")
}

// machineCPU is a snapshot of the machine-wide CPU counters in /proc/stat, used to show
// how busy the machine was while a run was measured.
type machineCPU struct{ busy, total uint64 }

// readMachineCPU reads the aggregate "cpu" line of /proc/stat.
func readMachineCPU() (machineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, fmt.Errorf("read machine cpu: %w", err)
	}
	return parseMachineCPU(b)
}

// parseMachineCPU parses "cpu user nice system idle iowait irq softirq steal ...".
func parseMachineCPU(stat []byte) (machineCPU, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	fields := bytes.Fields(line)
	if len(fields) < 5 || string(fields[0]) != "cpu" {
		return machineCPU{}, fmt.Errorf("unexpected /proc/stat first line %q", line)
	}
	var m machineCPU
	for i, f := range fields[1:] {
		if i >= 8 { // guest times are already counted in user
			break
		}
		v, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("/proc/stat field %d: %w", i+1, err)
		}
		m.total += v
		if i != 3 && i != 4 { // idle, iowait
			m.busy += v
		}
	}
	return m, nil
}

// busyFraction returns the share of CPU time that was busy between two snapshots.
func busyFraction(before, after machineCPU) float64 {
	total := after.total - before.total
	if total == 0 {
		return 0
	}
	return float64(after.busy-before.busy) / float64(total)
}
