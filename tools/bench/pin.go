package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// With -pin the servers run on one CPU and the generator on another, so that neither
// takes the other's core and the server's CPU is the bound being measured.
const (
	serverCPU    = 0
	generatorCPU = 1
)

// checkPinnable reports why -pin cannot work here, if it cannot.
func checkPinnable() error {
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("-pin needs two CPUs, this process may use %d", runtime.NumCPU())
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return fmt.Errorf("-pin starts the servers with taskset (util-linux): %w", err)
	}
	return nil
}

// pinned returns the command that runs binary with args on serverCPU: taskset execs
// it, so the process id is the server's.
func pinned(binary string, args []string) (string, []string) {
	return "taskset", append([]string{"-c", strconv.Itoa(serverCPU), binary}, args...)
}

// pinGenerator moves every thread of this process to generatorCPU (threads made later
// inherit it) and lets the Go scheduler use that one CPU only.
func pinGenerator() error {
	var set unix.CPUSet
	set.Set(generatorCPU)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("pin the generator: %w", err)
	}
	var errs []error
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("pin the generator's thread %d: %w", tid, err))
		}
	}
	runtime.GOMAXPROCS(1)
	return errors.Join(errs...)
}
